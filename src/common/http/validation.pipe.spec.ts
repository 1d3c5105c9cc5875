import { MAX_BODY_DEPTH, nestedDeeperThan } from './validation.pipe.js';

const nest = (depth: number, array: boolean): unknown => {
  let v: unknown = 1;
  for (let i = 0; i < depth; i++) v = array ? [v] : { a: v };
  return v;
};

describe('body nesting limit', () => {
  it.each([false, true])('counts levels of objects and arrays (arrays: %s)', (array) => {
    expect(nestedDeeperThan(nest(MAX_BODY_DEPTH, array), MAX_BODY_DEPTH)).toBe(false);
    expect(nestedDeeperThan(nest(MAX_BODY_DEPTH + 1, array), MAX_BODY_DEPTH)).toBe(true);
    expect(nestedDeeperThan('x', 0)).toBe(false);
  });

  // A body 5,000 levels deep (within the 16 KB limit) is refused without recursion (the e2e fuzz
  // shows the 400 over HTTP: test/reliability/input-fuzz.e2e-spec.ts).
  it('walks 5,000 levels without overflowing the stack', () => {
    expect(nestedDeeperThan({ a: nest(5000, true) }, MAX_BODY_DEPTH)).toBe(true);
  });
});
