import type { AnyCommand } from '../command.js';
import { accounts } from './accounts.js';
import { agents } from './agents.js';
import { audit } from './audit.js';
import { buy } from './buy.js';
import { approve, deny, getRequest, requests } from './decide.js';
import { claim, link, list, release, show, unclaim, unlink } from './numbers.js';
import { provision } from './provision.js';
import { search } from './search.js';
import { sync } from './sync.js';

export {
  accounts,
  agents,
  approve,
  audit,
  buy,
  claim,
  deny,
  getRequest,
  link,
  list,
  provision,
  release,
  requests,
  search,
  show,
  sync,
  unclaim,
  unlink,
};

/** Every core command, in the order help lists them. Every front end reads this list. */
export const commands: readonly AnyCommand[] = [
  search,
  buy,
  requests,
  getRequest,
  approve,
  deny,
  claim,
  unclaim,
  release,
  link,
  unlink,
  list,
  show,
  agents,
  provision,
  sync,
  accounts,
  audit,
] as unknown as readonly AnyCommand[];

export function findCommand(name: string): AnyCommand | undefined {
  return commands.find((command) => command.name === name);
}
