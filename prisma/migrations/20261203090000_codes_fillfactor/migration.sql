-- Room on each page of one_time_codes for the new version of an updated row, so a wrong code's
-- attempt (attempts + 1, its time into failed_at: no indexed column changes) is a HOT update: no
-- new entry in any of the table's five indexes. New pages only; existing ones fill up as codes are
-- deleted by retention.
ALTER TABLE "one_time_codes" SET (fillfactor = 70);
