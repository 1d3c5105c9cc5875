// Types of scripts/published-values.mjs (a plain ES module run by `npm run build`), for its tests.
export declare const OUTPUT: string;
export declare const MIN_STEM_LENGTH: number;
export declare function stemOf(value: string): string;
export declare function publishedDigests(root?: string): string[];
export declare function publishedStemDigests(root?: string): string[];
export declare function render(digests: string[], stemDigests: string[], files: string[]): string;
export declare function generated(root?: string): string;
