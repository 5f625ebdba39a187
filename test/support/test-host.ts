/**
 * The "test host" of every network test: a private network, pid and mount namespace
 * (test-network.ts runs an exported function of a scenario module there and returns its JSON
 * result). Bridges, veths, addresses and iptables rules made inside never touch the machine's
 * own network namespace, and traffic never leaves it.
 */
export { runInTestNetwork as runInTestHost } from './test-network';
