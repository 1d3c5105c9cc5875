// Types of scripts/module-graph.mjs for src/module-boundaries.spec.ts.
export interface ImportEdge {
  /** The importing module (top-level folder under src/, or `app` for the files directly in src/). */
  from: string;
  /** The imported module. */
  to: string;
  /** The importing file (absolute). */
  file: string;
  /** The specifier as written. */
  specifier: string;
  /** The specifier resolved against the importing file (absolute, with its `.js` suffix). */
  resolved: string;
}
export declare const SRC: string;
export declare const ARCHITECTURE: string;
export declare const APP: string;
export declare function moduleOf(file: string): string;
export declare function imports(options?: { includeSpecs?: boolean }): ImportEdge[];
export declare function edges(all?: ImportEdge[]): [string, string][];
export declare function cycles(edgeList?: [string, string][]): string[][];
export declare function mermaid(edgeList?: [string, string][]): string;
export declare function renderedBlock(edgeList?: [string, string][]): string;
export declare function documentedBlock(text?: string): string | null;
