-- The send's database work, as PrismaOtpRepository.issue() issues it (src/otp/prisma-otp.repository.ts,
-- statement ISSUE of src/otp/otp.statements.ts): ONE statement (so one implicit transaction, one
-- round trip): lockout check, cooldown check, the phone's send counted on its locked counter row
-- (rolling hour), cancel the client's previous pending code, insert the new one, enqueue its
-- delivery job with graphile_worker.add_job.
-- Values the service binds as parameters come from pgbench variables (sent as parameters with
-- -M extended) or from `v`; the id is gen_random_uuid() inside the statement, as the service makes
-- it in Node. Phones: +23324xxxxxxx, a disjoint range per client (no two clients share a phone, so
-- no unique-index conflicts abort a client); :range is passed with -D range=N. The send limit is
-- the validator's maximum, as bench/run.mjs configures the service.
\set n :client_id * :range + random(0, :range - 1)
\set cooldown 0
\set ttl 300
\set lim 1000000
WITH v AS (
  SELECT gen_random_uuid() AS id, '+23324' || lpad((:n)::text, 7, '0') AS phone, 'login'::text AS purpose,
         'bench'::text AS client, now() AS created_at, now() + make_interval(secs => :ttl) AS expires_at,
         now() - make_interval(secs => :cooldown) AS cooldown_start, now() - interval '1 hour' AS window_start
), locked AS (
  SELECT g.locked_until FROM verify_guards g, v WHERE g.client = v.client AND g.phone = v.phone AND g.locked_until > v.created_at
), recent AS (
  SELECT c.created_at FROM one_time_codes c, v
  WHERE c.phone = v.phone AND c.client = v.client AND c.purpose = v.purpose AND c.created_at > v.cooldown_start
    AND (c.status = 'max_attempts_reached' OR (c.status = 'pending' AND c.expires_at > v.created_at))
    AND NOT EXISTS (SELECT 1 FROM locked)
  ORDER BY c.created_at DESC LIMIT 1
), counted AS (
  INSERT INTO phone_send_counters AS p (key, sent_at, sent_by, updated_at)
  SELECT v.phone, ARRAY[v.created_at], ARRAY[v.client], v.created_at FROM v
  WHERE (:lim)::int > 0 AND NOT EXISTS (SELECT 1 FROM locked) AND NOT EXISTS (SELECT 1 FROM recent)
  ON CONFLICT (key) DO UPDATE SET
    (sent_at, sent_by) = (
      SELECT coalesce(array_agg(e.t ORDER BY e.o), '{}') || now(), coalesce(array_agg(e.c ORDER BY e.o), '{}') || 'bench'::text
      FROM unnest(p.sent_at, p.sent_by) WITH ORDINALITY AS e(t, c, o) WHERE e.t > now() - interval '1 hour'),
    updated_at = now()
  WHERE (SELECT count(*) FROM unnest(p.sent_at) AS t WHERE t > now() - interval '1 hour') < (:lim)::int
  RETURNING 1
), go AS (
  SELECT 1 WHERE NOT EXISTS (SELECT 1 FROM locked) AND NOT EXISTS (SELECT 1 FROM recent)
    AND ((:lim)::int = 0 OR EXISTS (SELECT 1 FROM counted))
), canceled AS (
  UPDATE one_time_codes c SET status = 'canceled', canceled_at = v.created_at FROM v
  WHERE c.phone = v.phone AND c.client = v.client AND c.purpose = v.purpose AND c.status = 'pending'
    AND EXISTS (SELECT 1 FROM go)
  RETURNING c.id
), inserted AS (
  INSERT INTO one_time_codes (id, phone, purpose, code_hash, hash_key_id, client, locale, max_attempts, expires_at, created_at)
  SELECT v.id, v.phone, v.purpose, 'q8Vx3nYp0Jt6bWc1Lr5sZk9uHd2Ge7Fa4Mi8No3Po6Q', 'k7f3a9c1', v.client,
         NULL, 5, v.expires_at, v.created_at
  FROM v, go, (SELECT count(*) AS n FROM canceled) AS c
  RETURNING id
), job AS (
  SELECT graphile_worker.add_job('deliver-otp',
           json_build_object('id', inserted.id, 'c', 'v1.k7f3a9c1.Qm9vX2l2XzEyYnl0.c2l4ZGln.dGFnLXNpeHRlZW4tYnl0ZXM'),
           job_key => inserted.id::text, max_attempts => 10) AS j
  FROM inserted
)
SELECT (SELECT locked_until FROM locked) AS "lockedUntil",
       (SELECT created_at FROM recent) AS "lastIssuedAt",
       (SELECT count(*) FROM canceled)::int AS canceled,
       (SELECT count(*) FROM job)::int AS jobs;
