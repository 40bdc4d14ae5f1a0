/**
 * What a command method returns, as a function of its reply type. The generated command surface is
 * written once, for every kind: the client's `get(key)` returns `Promise<string | null>`, a
 * pipeline's `get(key)` returns the pipeline with `string | null` appended to its result tuple.
 *
 * TypeScript has no type-level functions, so a kind is an interface whose `result` reads `this['reply']`
 * (the "this-type lambda" encoding): `Apply<K, T>` intersects K with `{ reply: T }` and reads
 * `result`, in which `this` is then the intersection. One indexed access per call: no recursion, no
 * conditional types, so long chains stay cheap to type-check (see bench/compile-time.ts).
 */
export interface Kind {
  /** Filled in by Apply: the reply type of one command. */
  readonly reply: unknown;
  /** What a method returns for a reply of type `this['reply']`. */
  readonly result: unknown;
}

/** The return type of a command method of kind `K` whose reply type is `T`. */
export type Apply<K extends Kind, T> = (K & { readonly reply: T })['result'];

/** The client's kind: every method returns a promise of its reply. */
export interface PromiseKind extends Kind {
  readonly result: Promise<this['reply']>;
}
