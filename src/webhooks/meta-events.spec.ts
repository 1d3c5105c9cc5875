import { parseMetaCallback } from './meta-events.js';

const PHONE_NUMBER_ID = '106540352242922';

/** The body of PROVIDERS.md ("WhatsApp Cloud API (Meta)"), with our phone number id. */
function documented(phoneNumberId = PHONE_NUMBER_ID): unknown {
  return {
    object: 'whatsapp_business_account',
    entry: [
      {
        id: '102290129340398',
        changes: [
          {
            field: 'messages',
            value: {
              messaging_product: 'whatsapp',
              metadata: { display_phone_number: '15550783881', phone_number_id: phoneNumberId },
              statuses: [
                {
                  id: 'wamid.HBgLMjMzMjAwMDAwMDAwFQIAERgSMA==',
                  status: 'delivered',
                  timestamp: '1700000000',
                  recipient_id: '233200000000',
                  errors: [{ code: 131026, title: 'Message undeliverable' }],
                },
              ],
              messages: [
                {
                  from: '233200000000',
                  id: 'wamid.IN1',
                  timestamp: '1700000001',
                  type: 'text',
                  text: { body: 'STOP' },
                },
              ],
            },
          },
        ],
      },
    ],
  };
}

describe('parseMetaCallback', () => {
  it("reads PROVIDERS.md's body: a status and an inbound STOP", () => {
    expect(parseMetaCallback(documented(), PHONE_NUMBER_ID)).toEqual({
      otherNumbers: 0,
      events: [
        {
          type: 'status',
          messageId: 'wamid.HBgLMjMzMjAwMDAwMDAwFQIAERgSMA==',
          status: 'delivered',
          reason: undefined,
          configurationError: false,
          effect: { kind: 'advance', to: 'delivered' },
        },
        { type: 'inbound', phone: '+233200000000', optChange: 'out', at: new Date(1700000001 * 1000) },
      ],
    });
  });

  it('maps sent, delivered, read forward and failed to the fallback, with the error code as reason', () => {
    const statuses = ['sent', 'delivered', 'read', 'failed', 'deleted'].map((status, i) => ({
      id: `wamid.${i}`,
      status,
      timestamp: '1700000000',
      recipient_id: '233200000000',
      ...(status === 'failed' ? { errors: [{ code: 131026, title: 'Message undeliverable' }] } : {}),
    }));
    const body = documented() as { entry: { changes: { value: Record<string, unknown> }[] }[] };
    body.entry[0].changes[0].value.statuses = statuses;
    body.entry[0].changes[0].value.messages = undefined;
    const { events } = parseMetaCallback(body, PHONE_NUMBER_ID);
    expect(events.map((e) => (e.type === 'status' ? [e.status, e.effect, e.reason] : e))).toEqual([
      ['sent', { kind: 'advance', to: 'sent' }, undefined],
      ['delivered', { kind: 'advance', to: 'delivered' }, undefined],
      ['read', { kind: 'advance', to: 'read' }, undefined],
      ['failed', { kind: 'failed' }, '131026'],
      { type: 'ignored', name: 'status' },
    ]);
  });

  it('flags a failed status whose code is a configuration error (template paused)', () => {
    const body = documented() as { entry: { changes: { value: Record<string, unknown> }[] }[] };
    body.entry[0].changes[0].value.statuses = [
      { id: 'wamid.x', status: 'failed', timestamp: '1', recipient_id: '1', errors: [{ code: 132015 }] },
      { id: 'wamid.y', status: 'failed', timestamp: '1', recipient_id: '1' },
    ];
    const { events } = parseMetaCallback(body, PHONE_NUMBER_ID);
    expect(events.slice(0, 2)).toMatchObject([
      { type: 'status', reason: '132015', configurationError: true },
      { type: 'status', reason: 'failed', configurationError: false },
    ]);
  });

  it('reads every entry and change of a batch, in order', () => {
    const one = documented() as { entry: unknown[] };
    const two = documented() as { entry: unknown[] };
    const body = { object: 'whatsapp_business_account', entry: [...one.entry, ...two.entry] };
    expect(parseMetaCallback(body, PHONE_NUMBER_ID).events.map((e) => e.type)).toEqual([
      'status',
      'inbound',
      'status',
      'inbound',
    ]);
  });

  it('skips changes for another phone number id, and everything when none is configured', () => {
    expect(parseMetaCallback(documented('999'), PHONE_NUMBER_ID)).toEqual({ events: [], otherNumbers: 1 });
    expect(parseMetaCallback(documented(), '')).toEqual({ events: [], otherNumbers: 1 });
  });

  it('opts in on START and reads quick-reply button text; other words change nothing', () => {
    const inbound = (message: Record<string, unknown>) => {
      const body = documented() as { entry: { changes: { value: Record<string, unknown> }[] }[] };
      body.entry[0].changes[0].value.statuses = undefined;
      body.entry[0].changes[0].value.messages = [
        { from: '233200000000', timestamp: '1700000002', ...message },
      ];
      return parseMetaCallback(body, PHONE_NUMBER_ID).events[0];
    };
    expect(inbound({ type: 'text', text: { body: ' start ' } })).toMatchObject({ optChange: 'in' });
    expect(inbound({ type: 'text', text: { body: 'unsubscribe' } })).toMatchObject({ optChange: 'out' });
    expect(inbound({ type: 'button', button: { text: 'STOP', payload: 'x' } })).toMatchObject({
      optChange: 'out',
    });
    expect(inbound({ type: 'text', text: { body: 'please stop' } })).toEqual({
      type: 'inbound',
      phone: '+233200000000',
      optChange: undefined,
      at: new Date(1700000002 * 1000),
    });
    expect(inbound({ type: 'image', image: {} })).toMatchObject({ type: 'inbound', optChange: undefined });
    expect(inbound({ from: 'not-a-number', type: 'text', text: { body: 'STOP' } })).toEqual({
      type: 'ignored',
      name: 'message',
    });
  });

  it('ignores other objects, other fields and garbage', () => {
    expect(parseMetaCallback({ object: 'page', entry: [] }, PHONE_NUMBER_ID).events).toEqual([
      { type: 'ignored', name: 'not_whatsapp_business_account' },
    ]);
    expect(parseMetaCallback('x', PHONE_NUMBER_ID).events).toEqual([
      { type: 'ignored', name: 'not_whatsapp_business_account' },
    ]);
    const templateUpdate = {
      object: 'whatsapp_business_account',
      entry: [
        { id: '1', changes: [{ field: 'message_template_status_update', value: { event: 'APPROVED' } }] },
      ],
    };
    expect(parseMetaCallback(templateUpdate, PHONE_NUMBER_ID).events).toEqual([
      { type: 'ignored', name: 'message_template_status_update' },
    ]);
  });
});
