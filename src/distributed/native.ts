// The addon's c10d functions (native/distributed.cc), which are not in the op table.
import { native as engine, type Handle } from '../engine/native.js';

export interface DistributedBinding {
  distInit(
    backend: string,
    rank: number,
    worldSize: number,
    masterAddr: string,
    masterPort: number,
    timeoutMs: number,
    glooInterface: string,
  ): Promise<void>;
  distAllReduce_(t: Handle, op: string): void;
  distBroadcast_(t: Handle, src: number): void;
  distBroadcastFlat_(tensors: Handle[], src: number): void;
  distAllGather(t: Handle): Handle[];
  distBarrier(): void;
  distAverageGradients_(params: Handle[]): void;
  distDestroy(): void;
  distState(): { rank: number; worldSize: number; backend: string } | null;
  distBackends(): string[];
}

export const native = engine as unknown as DistributedBinding;
