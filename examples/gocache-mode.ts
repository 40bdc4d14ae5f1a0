/**
 * Part one: the default client, typed for GoCache. It only has what GoCache serves, with GoCache's
 * options, and sends nothing on connect. redis-server answers this subset with the same bytes.
 */
import { GoCacheArgumentError, GoCacheClient, type GoCacheClientOptions } from '../src/index.js';
import { heading, rejection, show } from './print.js';

export async function gocacheMode(options: GoCacheClientOptions): Promise<void> {
  await using cache = await GoCacheClient.connect(options); // no `server` option: GoCache, the default
  console.log(`\n=== Part one: GoCache mode, the default client (no server option): cache.server is '${cache.server}' ===`);

  heading('Strings, expiry, a missing key');
  show('cache.ping()', await cache.ping());
  show("cache.set('user:1000', 'Eric')", await cache.set('user:1000', 'Eric'));
  show("cache.set('session:token', 'abc123', { ex: 60 })", await cache.set('session:token', 'abc123', { ex: 60 }));
  show("cache.get('user:1000')", await cache.get('user:1000'));
  show("cache.get('user:9999')", await cache.get('user:9999'));

  heading('The buffers view: binary-safe replies');
  show("cache.set('greeting', 'héllo')", await cache.set('greeting', 'héllo'));
  show("cache.buffers.get('greeting')", await cache.buffers.get('greeting'));

  heading('Pipeline: one socket write, typed per position');
  const replies: ['OK' | null, string | null] = await cache.pipeline().set('page', 'hi').get('page').exec();
  show("cache.pipeline().set('page', 'hi').get('page').exec()", replies);

  heading('Pub/sub: a subscription has a connection of its own');
  await using news = await cache.subscribe('news');
  show("cache.subscribe('news')", news);
  show("cache.publish('news', 'hello')", await cache.publish('news', 'hello'));
  for await (const message of news) {
    show('for await (const message of subscription)', message);
    break; // leaving the loop unsubscribes and closes the subscription's connection
  }

  heading("Several keys: GoCache's DEL takes one, so one DEL per key, pipelined");
  show("cache.del('user:1000', 'session:token', 'greeting', 'page')", await cache.del('user:1000', 'session:token', 'greeting', 'page'));

  heading('What GoCache does not serve is refused before anything is sent');
  // @ts-expect-error -- INCR is not on a GoCache client's type; a JavaScript caller gets GoCacheArgumentError
  const refused = await rejection(cache.incr('visits'));
  if (!(refused instanceof GoCacheArgumentError)) throw refused;
  show("cache.incr('visits')", refused);
}
