-- The send's database work, as PrismaOtpRepository.issue() issues it (src/otp/prisma-otp.repository.ts):
-- ONE statement (so one implicit transaction, one round trip): cooldown check, cancel the previous
-- pending code, insert the new one, enqueue its delivery job with graphile_worker.add_job.
-- Values the service binds as parameters come from pgbench variables (sent as parameters with
-- -M extended) or from `v`; the id is gen_random_uuid() inside the statement, as the service makes
-- it in Node. Phones: +23324xxxxxxx, a disjoint range per client (no two clients share a phone, so
-- no unique-index conflicts abort a client); :range is passed with -D range=N.
\set n :client_id * :range + random(0, :range - 1)
\set cooldown 0
\set ttl 300
WITH v AS (
  SELECT gen_random_uuid() AS id, '+23324' || lpad((:n)::text, 7, '0') AS phone, 'login'::text AS purpose,
         now() AS created_at, now() + make_interval(secs => :ttl) AS expires_at,
         now() - make_interval(secs => :cooldown) AS cooldown_start
), recent AS (
  SELECT c.created_at FROM one_time_codes c, v
  WHERE c.phone = v.phone AND c.purpose = v.purpose AND c.status = 'pending'
    AND c.created_at > v.cooldown_start AND c.expires_at > v.created_at
  ORDER BY c.created_at DESC LIMIT 1
), canceled AS (
  UPDATE one_time_codes c SET status = 'canceled', canceled_at = v.created_at FROM v
  WHERE c.phone = v.phone AND c.purpose = v.purpose AND c.status = 'pending'
    AND NOT EXISTS (SELECT 1 FROM recent)
  RETURNING c.id
), inserted AS (
  INSERT INTO one_time_codes (id, phone, purpose, code_hash, hash_key_id, client, locale, max_attempts, expires_at, created_at)
  SELECT v.id, v.phone, v.purpose, 'q8Vx3nYp0Jt6bWc1Lr5sZk9uHd2Ge7Fa4Mi8No3Po6Q', 'k7f3a9c1', 'bench',
         NULL, 5, v.expires_at, v.created_at
  FROM v, (SELECT count(*) AS n FROM canceled) AS c
  WHERE NOT EXISTS (SELECT 1 FROM recent)
  RETURNING id
), job AS (
  SELECT graphile_worker.add_job('deliver-otp',
           json_build_object('id', inserted.id, 'c', 'v1.k7f3a9c1.Qm9vX2l2XzEyYnl0.c2l4ZGln.dGFnLXNpeHRlZW4tYnl0ZXM'),
           job_key => inserted.id::text, max_attempts => 10) AS j
  FROM inserted
)
SELECT (SELECT created_at FROM recent) AS "lastIssuedAt",
       (SELECT count(*) FROM canceled)::int AS canceled,
       (SELECT count(*) FROM job)::int AS jobs;
