/**
 * Compile-time behaviour of pipelines and transactions of a Redis client (src/client/pipeline.ts), checked
 * by `tsc --noEmit` (this file is in tsconfig's include) and by tests/types/chain-types.test.ts.
 * Nothing here runs: every call sits in a function that is never called. Lines under
 * `// @ts-expect-error` must NOT compile; if one starts compiling, the directive is unused and the
 * compiler fails.
 */
import { GoCacheClient, GoCacheError, GoCachePipelineError, type Multi, type Pipeline, type Settled, type SettledTuple } from '../../src/index.js';

/** True when A and B are the same type (not merely assignable one way). */
export type Equal<A, B> = (<T>() => T extends A ? 1 : 2) extends <T>() => T extends B ? 1 : 2 ? true : false;

/** `expectType<Expected>()(value)` compiles only when the value's type is exactly Expected. */
export function expectType<Expected>() {
  return <Actual>(_value: Actual, ..._mismatch: Equal<Expected, Actual> extends true ? [] : ['type mismatch:', Actual]): void => {};
}

declare const client: GoCacheClient<'redis'>;

export async function pipelinesThatCompile(): Promise<void> {
  expectType<Promise<['OK' | null, string | null, number]>>()(client.pipeline().set('a', '1').get('a').incr('n').exec());
  expectType<Promise<[]>>()(client.pipeline().exec());
  expectType<Pipeline<'redis', string, ['OK' | null, string | null]>>()(client.pipeline().set('a', '1').get('a'));

  // Options shape the element type, as on the client.
  expectType<Promise<[string | null]>>()(client.pipeline().set('k', 'v', { get: true }).exec());
  expectType<Promise<['OK' | null, string | null, 'OK' | null]>>()(
    client.pipeline().set('k', 'v', { ex: 5 }).set('k', 'v', { get: true, px: 10 }).set('k', 'v', { keepttl: true, xx: true }).exec(),
  );
  expectType<Promise<[number | null]>>()(client.pipeline().zadd('z', [{ score: 1, member: 'm' }], { incr: true }).exec());
  expectType<Promise<[number]>>()(client.pipeline().zadd('z', [{ score: 1, member: 'm' }]).exec());
  expectType<Promise<[number, Array<string | null>, Record<string, string>]>>()(client.pipeline().del('a', 'b').mget('a', 'b').hgetall('h').exec());

  // execSettled(): each element's outcome.
  expectType<Promise<[Settled<'OK' | null>, Settled<string | null>, Settled<number>]>>()(client.pipeline().set('a', '1').get('a').incr('n').execSettled());
  expectType<Promise<SettledTuple<['OK' | null, string | null]>>>()(client.pipeline().set('a', '1').get('a').execSettled());
  const [settled] = await client.pipeline().get('a').execSettled();
  if (settled.ok) expectType<string | null>()(settled.value);
  else expectType<GoCacheError>()(settled.error);

  // The buffers view: bulk strings are Buffers.
  expectType<Promise<['OK' | null, Buffer | null, Array<Buffer | null>]>>()(client.buffers.pipeline().set('k', Buffer.from('v')).get('k').mget('k').exec());
  expectType<Promise<[Buffer | null]>>()(client.buffers.pipeline().set('k', 'v', { get: true }).exec());

  // Destructuring keeps each position's type.
  const [ok, value, n] = await client.pipeline().set('a', '1').get('a').incr('n').exec();
  expectType<'OK' | null>()(ok);
  expectType<string | null>()(value);
  expectType<number>()(n);

  // A chain built in a loop: give the starting type.
  const loop = client.pipeline<Array<string | null>>();
  for (const key of ['a', 'b']) loop.get(key);
  expectType<Promise<Array<string | null>>>()(loop.exec());
  const values: Array<string | null> = await loop.exec();
  void values;
  let reassigned = client.pipeline<Array<string | null>>();
  for (const key of ['a', 'b']) reassigned = reassigned.get(key);
  expectType<Promise<Array<string | null>>>()(reassigned.exec());
}

export async function transactionsThatCompile(): Promise<void> {
  expectType<Promise<['OK' | null, string | null, number]>>()(client.multi().set('a', '1').get('a').incr('n').exec());
  expectType<Multi<'redis', string, ['OK' | null]>>()(client.multi().set('a', '1'));
  expectType<Promise<[Settled<'OK' | null>, Settled<string | null>]>>()(client.multi().set('a', '1').get('a').execSettled());
  expectType<Promise<[string | null, number | null]>>()(client.multi().set('k', 'v', { get: true }).zadd('z', [{ score: 1, member: 'm' }], { incr: true }).exec());
  expectType<Promise<[Buffer | null]>>()(client.buffers.multi().get('k').exec());

  // watch(): the transaction's tuple is the result.
  expectType<Promise<['OK' | null, string | null]>>()(client.watch(['k'], (tx) => tx.multi().set('k', 'v').get('k')));
  expectType<Promise<[number]>>()(
    client.watch(['k'], async (tx) => {
      expectType<GoCacheClient<'redis'>>()(tx);
      await tx.get('k');
      return tx.multi().incr('k');
    }),
  );

  // GoCachePipelineError carries the typed outcomes (`instanceof` narrows to its default, unknown[]).
  const failure = new GoCachePipelineError<['OK' | null, number]>([{ ok: true, value: 'OK' }, { ok: true, value: 1 }], []);
  expectType<[Settled<'OK' | null>, Settled<number>]>()(failure.results);
  expectType<Array<{ index: number; error: GoCacheError }>>()(failure.errors);
  try {
    await client.pipeline().get('a').exec();
  } catch (error) {
    if (error instanceof GoCachePipelineError) expectType<Array<{ index: number; error: GoCacheError }>>()(error.errors);
  }
}

export async function chainsThatMustNotCompile(): Promise<void> {
  // @ts-expect-error a wrong element type: the second reply is a string | null, not a number
  const wrong: [string, number] = await client.pipeline().get('a').get('b').exec();
  void wrong;
  // @ts-expect-error get may answer null: string | null is not string
  const notNull: [string] = await client.multi().get('a').exec();
  void notNull;
  // @ts-expect-error one element too many
  const tooMany: [string | null, string | null] = await client.pipeline().get('a').exec();
  void tooMany;
  // @ts-expect-error ex and px are exclusive, in a chain too
  void client.pipeline().set('k', 'v', { ex: 1, px: 5 });
  // @ts-expect-error ex and px are exclusive, in a transaction too
  void client.multi().get('k').set('k', 'v', { ex: 1, px: 5 });
  // @ts-expect-error ex is a number of seconds
  void client.pipeline().set('k', 'v', { ex: '60' });
  // @ts-expect-error no such option
  void client.multi().set('k', 'v', { foo: 1 });
  // @ts-expect-error GET takes one key
  void client.pipeline().get('a', 'b');
  // @ts-expect-error DEL needs at least one key
  void client.multi().del();
  // @ts-expect-error with get, the element is the old value, not 'OK'
  expectType<Promise<['OK' | null]>>()(client.pipeline().set('k', 'v', { get: true }).exec());
  // @ts-expect-error with incr, ZADD may answer null
  expectType<Promise<[number]>>()(client.pipeline().zadd('z', [{ score: 1, member: 'm' }], { incr: true }).exec());
  // @ts-expect-error the buffers view answers Buffers
  expectType<Promise<[string | null]>>()(client.buffers.pipeline().get('k').exec());
  // @ts-expect-error execSettled() gives outcomes, not values
  expectType<Promise<['OK' | null]>>()(client.pipeline().set('k', 'v').execSettled());
  // @ts-expect-error the queued commands are internal
  void client.pipeline().queued;
  // @ts-expect-error a pipeline is not a transaction
  expectType<Multi<'redis', string, [string | null]>>()(client.pipeline().get('k'));
}
