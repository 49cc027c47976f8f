// The models of a run: the target always, a guidance model for two-model methods
// (D2R, LBGAT). Here, below methods and eval, because both train or evaluate them.
import type { Module } from '../nn/index.js';

export interface Models {
  target: Module;
  guidance?: Module;
}
