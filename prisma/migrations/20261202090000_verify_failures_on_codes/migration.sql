-- The verify limits (API.md A2, Decision 3) are now counted on the code rows the attempt statement
-- already updates: each wrong code appends its time to its own row's failed_at, so a wrong code
-- writes one row, not two. verify_guards keeps only what must outlive the codes: the consecutive
-- failures folded at a point in time (counted_until), and a running lockout. A guard row is written
-- when a lockout arms, when a success resets failures, and when the retention sweep deletes codes
-- that still hold uncounted failures.
--
-- Expand only: verify_guards.failures is no longer read or written, and is dropped in a later
-- release (docs/operations.md: migrations stay compatible with the previous release).

-- AlterTable: a constant default, so no table rewrite (PostgreSQL 11+).
ALTER TABLE "one_time_codes" ADD COLUMN "failed_at" TIMESTAMPTZ(3)[] NOT NULL DEFAULT '{}';

-- AlterTable
ALTER TABLE "verify_guards" ADD COLUMN "counted_until" TIMESTAMPTZ(3);
