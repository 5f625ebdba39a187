/**
 * Published ports are reserved on the host: portmap only writes DNAT rules and never binds,
 * so without a socket of our own a second container (or any host process) could take the
 * same port and one of them would silently lose its traffic. Each host port is bound here
 * before the container's program runs and held for the container's life (by this process,
 * or handed to the monitor of a detached one with the other owner fds); a port already
 * taken fails with Node's EADDRINUSE error, naming the address and port.
 */
import * as dgram from 'node:dgram';
import * as net from 'node:net';
import type { ContainerConfig } from '../options/validate';

export interface HeldPort {
  /** The socket's fd, to hand to a monitor. */
  fd: number;
  close(): Promise<void>;
}

type Mapping = ContainerConfig['ports'][number];

function fdOf(handle: unknown): number {
  return (handle as { _handle?: { fd?: number } })._handle?.fd ?? -1;
}

function holdTcp(mapping: Mapping): Promise<HeldPort> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    // Traffic goes to the container through portmap's DNAT; whatever reaches this socket is refused.
    server.maxConnections = 0;
    server.once('error', reject);
    server.listen({ port: mapping.host, host: mapping.hostIp, exclusive: true }, () => {
      server.off('error', reject);
      server.unref();
      resolve({ fd: fdOf(server), close: () => new Promise((done) => server.close(() => done())) });
    });
  });
}

function holdUdp(mapping: Mapping): Promise<HeldPort> {
  return new Promise((resolve, reject) => {
    const socket = dgram.createSocket({ type: 'udp4' });
    socket.once('error', reject);
    socket.bind({ port: mapping.host, address: mapping.hostIp, exclusive: true }, () => {
      socket.off('error', reject);
      socket.unref();
      resolve({ fd: fdOf(socket), close: () => new Promise((done) => socket.close(() => done())) });
    });
  });
}

/** Binds every host port, or none: on a failure the ones already bound are let go. */
export async function holdPorts(ports: ContainerConfig['ports']): Promise<HeldPort[]> {
  const held: HeldPort[] = [];
  try {
    for (const mapping of ports) held.push(await (mapping.protocol === 'udp' ? holdUdp(mapping) : holdTcp(mapping)));
    return held;
  } catch (error) {
    await Promise.all(held.map((h) => h.close()));
    const mapping = ports[held.length];
    // Node's own error (code, syscall, address, port), with the step that needed it.
    (error as { step?: string }).step = `publish ${mapping.hostIp}:${mapping.host}/${mapping.protocol}`;
    throw error;
  }
}
