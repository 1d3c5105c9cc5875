import { parseSinchEvent, whatsappPhone } from './sinch-events.js';

const CODE_ID = '0b6f3c1e-9a57-4d7e-8f43-2f1a6b9c0d11';

function report(status: string, extra: Record<string, unknown> = {}) {
  return {
    app_id: 'app',
    message_delivery_report: { message_id: 'msg-1', status, ...extra },
    message_metadata: CODE_ID,
  };
}

describe('parseSinchEvent', () => {
  it.each([
    ['QUEUED_ON_CHANNEL', { kind: 'advance', to: 'sent' }],
    ['DELIVERED', { kind: 'advance', to: 'delivered' }],
    ['READ', { kind: 'advance', to: 'read' }],
    ['FAILED', { kind: 'failed' }],
    ['SWITCHING_CHANNEL', { kind: 'record' }],
  ])('maps delivery report %s', (status, effect) => {
    expect(parseSinchEvent(report(status))).toEqual({
      type: 'delivery_report',
      codeId: CODE_ID,
      messageId: 'msg-1',
      status,
      reason: undefined,
      effect,
    });
  });

  it('keeps the reason code of a FAILED report', () => {
    const sut = parseSinchEvent(report('FAILED', { reason: { code: 'OUTSIDE_ALLOWED_SENDING_WINDOW' } }));
    expect(sut).toMatchObject({ type: 'delivery_report', reason: 'OUTSIDE_ALLOWED_SENDING_WINDOW' });
  });

  it('uses message_metadata only when it is one of our ids', () => {
    const sut = parseSinchEvent({ ...report('DELIVERED'), message_metadata: 'not-a-uuid' });
    expect(sut).toMatchObject({ type: 'delivery_report', codeId: undefined, messageId: 'msg-1' });
  });

  it('reads the attempt of our client reference codeId:attemptId', () => {
    const attempt = '7d1c2b3a-4e5f-4a6b-8c7d-9e0f1a2b3c4d';
    const sut = parseSinchEvent({ ...report('DELIVERED'), message_metadata: `${CODE_ID}:${attempt}` });
    expect(sut).toMatchObject({ codeId: CODE_ID, attemptId: attempt, messageId: 'msg-1' });
  });

  it('ignores a report carrying only message_metadata (no message id): it names no message', () => {
    const sut = parseSinchEvent({ message_delivery_report: { status: 'FAILED' }, message_metadata: CODE_ID });
    expect(sut).toEqual({ type: 'ignored', name: 'message_delivery_report' });
  });

  it.each([
    ['an unknown status', report('TELEPORTED')],
    ['a report naming no message', { message_delivery_report: { status: 'DELIVERED' } }],
    ['a contact notification', { contact_create_notification: { contact: {} } }],
    ['an array', []],
    ['a string', 'DELIVERED'],
    [
      'an outbound message',
      { message: { direction: 'TO_CONTACT', contact_message: {}, channel_identity: {} } },
    ],
  ])('ignores %s', (_label, body) => {
    expect(parseSinchEvent(body)).toMatchObject({ type: 'ignored' });
  });

  function inbound(text: string, channel = 'WHATSAPP', identity = '233241234567') {
    return {
      message: {
        id: 'in-1',
        direction: 'TO_APP',
        contact_message: { text_message: { text } },
        channel_identity: { channel, identity, app_id: 'app' },
        accept_time: '2025-01-02T03:04:05.000Z',
      },
    };
  }

  it.each([
    ['STOP', 'out'],
    ['  stop ', 'out'],
    ['Unsubscribe', 'out'],
    ['START', 'in'],
    ['start\n', 'in'],
    ['please stop', undefined],
    ['hello', undefined],
  ])('reads inbound %j as opt change %s', (text, optChange) => {
    expect(parseSinchEvent(inbound(text))).toEqual({
      type: 'inbound',
      phone: '+233241234567',
      optChange,
      at: new Date('2025-01-02T03:04:05.000Z'),
    });
  });

  it('ignores inbound messages on other channels or without a usable identity', () => {
    expect(parseSinchEvent(inbound('STOP', 'SMS'))).toMatchObject({ type: 'ignored' });
    expect(parseSinchEvent(inbound('STOP', 'WHATSAPP', 'abc'))).toMatchObject({ type: 'ignored' });
  });
});

describe('whatsappPhone', () => {
  it('turns a WhatsApp identity into E.164', () => {
    expect(['233241234567', '+233241234567', ' 233241234567 '].map(whatsappPhone)).toEqual([
      '+233241234567',
      '+233241234567',
      '+233241234567',
    ]);
    expect([undefined, 42, '12', '+1 (555) 0100'].map(whatsappPhone)).toEqual([
      undefined,
      undefined,
      undefined,
      undefined,
    ]);
  });
});
