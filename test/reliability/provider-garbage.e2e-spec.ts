import { startApp, type TestApp } from '../helpers/app.js';
import { uniquePhone } from '../helpers/db.js';
import { codeIn, createIsolatedDb, type IsolatedDb, leaksIn, unfinished } from '../helpers/reliability.js';
import { waitFor } from '../helpers/wait.js';
import { type DnzAndEnoSend, type DnzFake, type EnoSendFake, startDnzAndEnoSend } from '../fakes/index.js';

type Body = Record<string, unknown>;
interface Attempt {
  provider: string;
  outcome: string;
  errorCode: string | null;
}

describe('reliability: the first provider answers garbage', () => {
  let db: IsolatedDb;
  let fakes: DnzAndEnoSend;
  let dnz: DnzFake;
  let enosend: EnoSendFake;
  let t: TestApp;
  const phones: string[] = [];

  beforeAll(async () => {
    db = await createIsolatedDb('garbage');
    fakes = await startDnzAndEnoSend();
    ({ dnz, enosend } = fakes);
    t = await startApp({
      env: {
        // The fakes run in this process, beside the app: a provider timeout of 400 ms let a loaded
        // machine abort the hung call before the fake had read (and recorded) its body.
        ...fakes.env({ chain: ['dnz', 'enosend'], timeoutMs: 2000, statusPollMs: 1500 }),
        DATABASE_URL: db.url,
        // One try per provider, and a breaker that never opens: each case shows one classification.
        DELIVERY_RETRIES: '0',
        DELIVERY_CIRCUIT_THRESHOLD: '1000',
      },
    });
  }, 30_000);

  afterAll(async () => {
    await t?.close();
    await fakes?.close();
    await db?.drop();
  });

  const send = async () => {
    const phone = uniquePhone();
    phones.push(phone);
    const res = await t.request<Body>('POST', '/v1/otp/send', { body: { phone } });
    expect(res.status).toBe(202);
    return { phone, id: res.body.id as string };
  };
  const finished = (id: string, final: string[]) =>
    waitFor(
      async () => {
        const view = (await t.request<Body>('GET', `/v1/otp/${id}`)).body;
        const delivery = view.delivery as { status: string; provider: string; attempts: Attempt[] };
        return final.includes(delivery.status) ? delivery : undefined;
      },
      { timeoutMs: 8000, what: `delivery of ${id}` },
    );

  // What DNZ does → how its attempt is classified. Transport failures and garbage are retryable
  // (the message may go through on another try or provider); `200 { accepted: false }` is the
  // provider's own refusal, read from the body rather than trusted from the status.
  it.each([
    ['a timeout (no answer)', 'hang', 'retryable_error', 'timeout'],
    ['a connection reset', 'reset', 'retryable_error', 'connection_reset'],
    ['an HTML page with 200', 'html', 'retryable_error', 'invalid_response'],
    ['an HTML 502 from a load balancer', 'html_502', 'retryable_error', 'http_502'],
    ['truncated JSON with 200', 'truncated', 'retryable_error', 'invalid_response'],
    ['an empty 200', 'empty', 'retryable_error', 'invalid_response'],
    ['200 with an error body', 'error_body_200', 'retryable_error', 'send_otp_failed'],
  ] as const)(
    '%s: classified, and the code goes out through EnoSend',
    async (_label, mode, outcome, errorCode) => {
      dnz.behave(mode);
      const { phone, id } = await send();
      const delivery = await finished(id, ['delivered', 'failed']);
      expect(delivery.status).toBe('delivered');
      expect(delivery.provider).toBe('enosend');
      expect(delivery.attempts.map((a) => [a.provider, a.outcome, a.errorCode])).toEqual([
        ['dnz', outcome, errorCode],
        ['enosend', 'sent', null],
      ]);
      expect(dnz.requests.filter((r) => (r.json as Body)?.number === phone)).toHaveLength(1);
      expect(enosend.sendRequests().filter((r) => (r.json as Body)?.number === phone.slice(1))).toHaveLength(
        1,
      );
    },
  );

  it('the worker is still running afterwards: a healthy DNZ delivers the next code, nothing is left queued', async () => {
    dnz.behave('ok');
    const { phone, id } = await send();
    // DNZ cannot report delivery: its deliveries end at `sent`.
    const delivery = await finished(id, ['sent', 'delivered', 'failed']);
    expect(delivery).toMatchObject({ status: 'sent', provider: 'dnz' });
    expect(dnz.requests.filter((r) => (r.json as Body)?.number === phone)).toHaveLength(1);
    expect(await unfinished(db, { phones })).toEqual([]);
    const codes = [...dnz.requests, ...enosend.sendRequests()].map(codeIn).filter(Boolean) as string[];
    expect(codes.length).toBeGreaterThanOrEqual(8);
    expect(leaksIn(t.logs, { phones, codes })).toEqual([]);
  });
});
