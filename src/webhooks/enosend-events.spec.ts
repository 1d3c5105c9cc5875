import { parseEnoSendEvent, parseTimestamp } from './enosend-events.js';

describe('parseEnoSendEvent', () => {
  it('reads instance.state', () => {
    const sut = parseEnoSendEvent({
      event: 'instance.state',
      instance_id: 'inst-1',
      state: 'Disconnected',
      timestamp: 1_700_000_000,
    });
    expect(sut).toEqual({
      type: 'instance_state',
      instanceId: 'inst-1',
      state: 'disconnected',
      timestamp: 1_700_000_000,
      observedAt: new Date(1_700_000_000_000),
    });
  });

  it.each([
    ['message status events', { event: 'message.status', message_id: 'm', status: 'delivered' }],
    ['unknown events', { event: 'something.new' }],
    ['a state that is not a word', { event: 'instance.state', state: '<script>' }],
    ['a missing state', { event: 'instance.state' }],
    ['non-objects', [1, 2]],
  ])('ignores %s', (_label, body) => {
    expect(parseEnoSendEvent(body)).toMatchObject({ type: 'ignored' });
  });
});

describe('parseTimestamp', () => {
  it.each([
    [1_700_000_000, 1_700_000_000_000],
    ['1700000000', 1_700_000_000_000],
    [1_700_000_000_123, 1_700_000_000_123],
    ['2023-11-14T22:13:20.000Z', 1_700_000_000_000],
  ])('%j', (input, ms) => {
    expect(parseTimestamp(input)?.getTime()).toBe(ms);
  });

  it.each([[null], ['soon'], [{}], [-5]])('%j is no time', (input) => {
    expect(parseTimestamp(input)).toBeUndefined();
  });
});
