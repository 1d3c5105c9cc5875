import { parseJson } from './body.js';

describe('body helpers', () => {
  it('parses only complete JSON objects or arrays', () => {
    expect(parseJson(' {"a":1} ')).toEqual({ a: 1 });
    expect(parseJson('[1]')).toEqual([1]);
    expect(parseJson('{"a":')).toBeUndefined();
    expect(parseJson('<html></html>')).toBeUndefined();
    expect(parseJson('"text"')).toBeUndefined();
    expect(parseJson('')).toBeUndefined();
  });
});
