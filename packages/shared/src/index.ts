export * from './validation.ts';
export * from './log.ts';
export * from './flags.ts';
export * from './sockets.ts';
export * from './meta.ts';
export * from './vmi.ts';
export * from './domain.ts';
export * from './iproute2.ts';
