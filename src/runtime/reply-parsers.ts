/** Hand-written parsers for replies that are text with a structure of their own; the spec names them. */
import { GoCacheProtocolError } from './errors.js';

/** One line of CLUSTER NODES. GoCache sends the first three fields; Redis sends all of them. */
export interface ClusterNode {
  /** GoCache's node id (`n1`) or Redis's 40-character id. */
  id: string;
  /** Empty when the node does not know its own address yet (a lone Redis node). */
  host: string;
  port: number;
  /**
   * GoCache: `alive` or `dead` (a node lists itself as dead, and a follower its leader: do not trust it).
   * Redis: the link state, `connected` or `disconnected`.
   */
  status: string;
  /** Redis only: `myself`, `master`, `slave`, `fail?`, ... */
  flags?: string[];
  /** Redis only: the id of this replica's master. */
  master?: string;
  /** Redis only: slot ranges served (`0-5460`). */
  slots?: string[];
}

export function parseClusterNodes(text: string): ClusterNode[] {
  const nodes: ClusterNode[] = [];
  for (const line of text.split('\n')) {
    if (line.trim() === '') continue;
    const fields = line.trim().split(' ');
    const address = fields[1]?.split('@')[0] ?? '';
    const colon = address.lastIndexOf(':');
    const port = Number(address.slice(colon + 1));
    if (fields.length < 3 || colon < 0 || !Number.isInteger(port)) {
      throw new GoCacheProtocolError(`Unexpected CLUSTER NODES line: ${JSON.stringify(line)}`);
    }
    const node: ClusterNode = { id: fields[0]!, host: address.slice(0, colon), port, status: fields[2]! };
    if (fields.length >= 8) {
      node.flags = fields[2]!.split(',');
      node.status = fields[7]!;
      if (fields[3] !== '-') node.master = fields[3]!;
      node.slots = fields.slice(8);
    }
    nodes.push(node);
  }
  return nodes;
}

/** A value of INFO: numbers as numbers, the rest as text (`redis_version: '7.0.15'`). */
export type InfoValue = string | number;
/** INFO by section (lower-case section names: `server`, `clients`, `memory`, `keyspace`, ...). */
export type InfoSections = Record<string, Record<string, InfoValue>>;

const NUMBER = /^-?\d+(\.\d+)?$/;

/** INFO's `# Section` headers and `field:value` lines, with numeric values as numbers. */
export function parseInfo(text: string): InfoSections {
  const sections: InfoSections = Object.create(null);
  let current: Record<string, InfoValue> | undefined;
  for (const raw of text.split('\n')) {
    const line = raw.trimEnd();
    if (line === '') continue;
    if (line.startsWith('# ')) {
      current = Object.create(null) as Record<string, InfoValue>;
      sections[line.slice(2).trim().toLowerCase()] = current;
      continue;
    }
    const colon = line.indexOf(':');
    if (colon <= 0) throw new GoCacheProtocolError(`Unexpected INFO line: ${JSON.stringify(line)}`);
    if (current === undefined) {
      current = Object.create(null) as Record<string, InfoValue>;
      sections['default'] = current;
    }
    const value = line.slice(colon + 1);
    current[line.slice(0, colon)] = NUMBER.test(value) && Number.isSafeInteger(Math.trunc(Number(value))) ? Number(value) : value;
  }
  return sections;
}

/** One connection of CLIENT LIST: its `name=value` fields as text (`id`, `addr`, `name`, `db`, `cmd`, ...). */
export type ClientInfo = Record<string, string>;

export function parseClientList(text: string): ClientInfo[] {
  return text
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line) => {
      const client: ClientInfo = Object.create(null);
      for (const field of line.trim().split(' ')) {
        const eq = field.indexOf('=');
        if (eq <= 0) throw new GoCacheProtocolError(`Unexpected CLIENT LIST field: ${JSON.stringify(field)}`);
        client[field.slice(0, eq)] = field.slice(eq + 1);
      }
      return client;
    });
}
