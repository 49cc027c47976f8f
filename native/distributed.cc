// Data-parallel collectives on PyTorch's own c10d: a TCPStore rendezvous and a
// ProcessGroupGloo (CPU tensors), or a ProcessGroupNCCL where libtorch was built
// with CUDA and NCCL. One group per process, as torch.distributed's default group.
//
// Dead peers: Gloo reports a failure by an address, or only as a timeout, never
// by rank. Every rank therefore bumps a heartbeat counter in the store from a
// background thread; when a collective fails, the counters that stopped moving
// name the ranks that are gone (and a store that no longer answers names rank 0,
// which hosts it). The collective's own timeout is shortened by the time this
// check takes, so that every rank fails within the timeout the user gave.
#include "ops.h"

#include <torch/csrc/api/include/torch/version.h>

#if __has_include(<gloo/context.h>) && __has_include(<torch/csrc/distributed/c10d/ProcessGroupGloo.hpp>)
#ifndef USE_C10D_GLOO
#define USE_C10D_GLOO
#endif
#define D2R_HAS_GLOO 1
#include <torch/csrc/distributed/c10d/ProcessGroupGloo.hpp>
#else
#define D2R_HAS_GLOO 0
#endif

// NCCL only where libtorch's build says it has it (a CUDA build defines
// USE_C10D_NCCL for its users) and its headers are there; Debian's CPU libtorch
// ships ProcessGroupNCCL.hpp without NCCL, so the header alone is not enough.
#if defined(USE_C10D_NCCL) && __has_include(<torch/csrc/distributed/c10d/ProcessGroupNCCL.hpp>) && __has_include(<nccl.h>)
#define D2R_HAS_NCCL 1
#include <torch/csrc/distributed/c10d/ProcessGroupNCCL.hpp>
#else
#define D2R_HAS_NCCL 0
#endif

#include <torch/csrc/autograd/custom_function.h>
#include <torch/csrc/distributed/c10d/PrefixStore.hpp>
#include <torch/csrc/distributed/c10d/TCPStore.hpp>

#include <chrono>
#include <condition_variable>
#include <cstdlib>
#include <memory>
#include <mutex>
#include <sstream>
#include <stdexcept>
#include <thread>

namespace d2r {

namespace {

using Millis = std::chrono::milliseconds;

// libtorch 2.x moved the collectives from ProcessGroup to Backend, which both
// ProcessGroupGloo and ProcessGroupNCCL derive from there.
#if TORCH_VERSION_MAJOR >= 2
using Collectives = c10d::Backend;
#else
using Collectives = c10d::ProcessGroup;
#endif

// A collective failure with the ranks found dead (empty: none could be named).
struct PeerFailure : std::runtime_error {
  std::vector<int> ranks;
  PeerFailure(const std::string& message, std::vector<int> failed) : std::runtime_error(message), ranks(std::move(failed)) {}
};

std::string seconds(Millis t) {
  std::ostringstream out;
  out << static_cast<double>(t.count()) / 1000 << " s";
  return out.str();
}

std::string rankList(const std::vector<int>& ranks) {
  std::string out = ranks.size() == 1 ? "rank " : "ranks ";
  for (size_t i = 0; i < ranks.size(); ++i) out += (i ? ", " : "") + std::to_string(ranks[i]);
  return out;
}

std::string heartbeatKey(int rank) { return "d2r/heartbeat/" + std::to_string(rank); }
std::string joinedKey(int rank) { return "d2r/joined/" + std::to_string(rank); }

struct Group {
  int rank = 0;
  int size = 1;
  std::string backend;
  std::string host;
  uint16_t port = 0;
  Millis timeout{0};
  Millis heartbeatInterval{0};
  c10::intrusive_ptr<c10d::TCPStore> store;
  // Its own connection: a TCPStore client is one socket, not for two threads at once.
  c10::intrusive_ptr<c10d::TCPStore> heartbeatStore;
  std::mutex heartbeatMutex;
  c10::intrusive_ptr<Collectives> collectives;
  std::thread heartbeat;
  std::mutex stopMutex;
  std::condition_variable stopSignal;
  bool stopping = false;

  void startHeartbeat() {
    heartbeat = std::thread([this] {
      std::unique_lock<std::mutex> lock(stopMutex);
      while (!stopping) {
        lock.unlock();
        try {
          std::lock_guard<std::mutex> storeLock(heartbeatMutex);
          heartbeatStore->add(heartbeatKey(rank), 1);
        } catch (const std::exception&) {
          return;  // the store is gone: failures will be diagnosed when a collective fails
        }
        lock.lock();
        stopSignal.wait_for(lock, heartbeatInterval, [this] { return stopping; });
      }
    });
  }

  ~Group() {
    {
      std::lock_guard<std::mutex> lock(stopMutex);
      stopping = true;
    }
    stopSignal.notify_all();
    if (heartbeat.joinable()) heartbeat.join();
  }

  // The other ranks whose heartbeat stopped; rank 0 when the store itself is gone.
  std::vector<int> deadPeers() {
    auto read = [this]() {
      std::vector<int64_t> counts(size);
      std::lock_guard<std::mutex> storeLock(heartbeatMutex);
      for (int r = 0; r < size; ++r) counts[r] = r == rank ? 0 : heartbeatStore->add(heartbeatKey(r), 0);
      return counts;
    };
    try {
      auto before = read();
      std::this_thread::sleep_for(2 * heartbeatInterval + heartbeatInterval / 2);
      auto after = read();
      std::vector<int> dead;
      for (int r = 0; r < size; ++r) {
        if (r != rank && after[r] == before[r]) dead.push_back(r);
      }
      return dead;
    } catch (const std::exception&) {
      return rank == 0 ? std::vector<int>{} : std::vector<int>{0};
    }
  }

  // Waits for a collective; a failure becomes a PeerFailure naming the dead ranks.
  void wait(const c10::intrusive_ptr<c10d::Work>& work, const char* what) {
    try {
      work->wait();
    } catch (const std::exception& e) {
      fail(what, e.what());
    }
  }

  [[noreturn]] void fail(const std::string& what, const std::string& cause) {
    auto dead = deadPeers();
    std::string message = "distributed " + what + " on rank " + std::to_string(rank) + " failed: ";
    if (!dead.empty()) {
      message += rankList(dead) + (dead == std::vector<int>{0} && rank != 0 ? " (which hosts the rendezvous store)" : "") +
                 " did not respond within " + seconds(timeout) + " (the process is gone)";
    } else {
      message += "a collective did not complete within " + seconds(timeout) +
                 " although every rank is alive (a rank is stuck, or the ranks called different collectives)";
    }
    throw PeerFailure(message + "; " + backend + ": " + cause, dead);
  }
};

std::unique_ptr<Group> group;
std::atomic<bool> initializing{false};

Group& current(const char* what) {
  if (!group) {
    throw std::runtime_error(std::string("distributed ") + what + ": no process group (call distributed.initProcessGroup first)");
  }
  return *group;
}

// Gloo and NCCL take dense contiguous tensors: others go through a contiguous copy.
template <typename Fn>
void onContiguous(at::Tensor& t, Fn fn) {
  if (t.is_contiguous()) {
    fn(t);
    return;
  }
  auto copy = t.contiguous();
  fn(copy);
  at::NoGradGuard noGrad;
  t.copy_(copy);
}

c10d::ReduceOp reduceOpArg(const std::string& op) {
  if (op == "sum" || op == "avg" || op == "mean") return c10d::ReduceOp::SUM;
  if (op == "max") return c10d::ReduceOp::MAX;
  if (op == "min") return c10d::ReduceOp::MIN;
  throw std::invalid_argument("allReduce: op must be 'sum', 'avg', 'mean', 'max' or 'min', got '" + op + "'");
}

void allReduceOn(Group& g, at::Tensor& t, const std::string& op) {
  auto reduceOp = reduceOpArg(op);
  bool average = op == "avg" || op == "mean";
  if (average && !at::isFloatingType(t.scalar_type())) {
    throw std::invalid_argument("allReduce: op '" + op + "' needs a floating-point tensor, got " + std::string(c10::toString(t.scalar_type())));
  }
  onContiguous(t, [&](at::Tensor& dense) {
    std::vector<at::Tensor> tensors{dense};
    c10d::AllreduceOptions opts;
    opts.reduceOp = reduceOp;
    g.wait(g.collectives->allreduce(tensors, opts), "allReduce");
  });
  // Gloo has no AVG: the sum over ranks, divided (NCCL's AVG does the same).
  if (average) {
    at::NoGradGuard noGrad;
    t.div_(g.size);
  }
}

// ---- rendezvous ---------------------------------------------------------------

struct InitOptions {
  std::string backend, host, interface;
  int rank, size;
  uint16_t port;
  Millis timeout;
};

std::unique_ptr<Group> createGroup(const InitOptions& o, std::vector<int>& missing) {
  auto g = std::make_unique<Group>();
  g->rank = o.rank;
  g->size = o.size;
  g->backend = o.backend;
  g->host = o.host;
  g->port = o.port;
  g->timeout = o.timeout;
  g->heartbeatInterval = std::max(Millis(50), std::min(Millis(1000), o.timeout / 10));
  auto storeOptions = [&](bool server) {
    c10d::TCPStoreOptions s;
    s.port = o.port;
    s.isServer = server;
    s.numWorkers = static_cast<size_t>(o.size);
    s.waitWorkers = false;  // joining is checked below, to name the ranks that did not come
    s.timeout = o.timeout;
    return s;
  };
  const std::string where = o.host + ":" + std::to_string(o.port);
  try {
    g->store = c10::make_intrusive<c10d::TCPStore>(o.host, storeOptions(o.rank == 0));
    g->heartbeatStore = c10::make_intrusive<c10d::TCPStore>(o.host, storeOptions(false));
  } catch (const std::exception& e) {
    if (o.rank == 0) throw std::runtime_error("rank 0 could not serve the rendezvous store at " + where + ": " + e.what());
    missing = {0};
    throw std::runtime_error("rank " + std::to_string(o.rank) + " could not reach the rendezvous store at " + where + " (served by rank 0) within " +
                             seconds(o.timeout) + ": " + e.what());
  }
  g->store->set(joinedKey(o.rank), std::vector<uint8_t>{1});
  std::vector<std::string> everyone;
  for (int r = 0; r < o.size; ++r) everyone.push_back(joinedKey(r));
  try {
    g->store->wait(everyone, o.timeout);
  } catch (const std::exception&) {
    for (int r = 0; r < o.size; ++r) {
      if (!g->store->check({joinedKey(r)})) missing.push_back(r);
    }
    if (missing.empty()) throw;
    throw std::runtime_error(rankList(missing) + " did not join the process group at " + where + " within " + seconds(o.timeout));
  }
  // The collectives' own timeout leaves room for the dead-peer check after it.
  Millis collectiveTimeout = std::max(g->heartbeatInterval, o.timeout - 3 * g->heartbeatInterval);
  auto prefixed = c10::make_intrusive<c10d::PrefixStore>(o.backend, g->store);
  if (o.backend == "gloo") {
#if D2R_HAS_GLOO
    auto options = c10d::ProcessGroupGloo::Options::create(collectiveTimeout);
    options->devices.push_back(o.interface.empty() ? c10d::ProcessGroupGloo::createDefaultDevice()
                                                   : c10d::ProcessGroupGloo::createDeviceForInterface(o.interface));
    g->collectives = c10::make_intrusive<c10d::ProcessGroupGloo>(prefixed, o.rank, o.size, options);
#else
    throw std::runtime_error(
        "backend 'gloo': this build of d2r has no Gloo (the Gloo headers were missing when the addon was compiled: install libgloo-dev and run "
        "`npm rebuild d2r`)");
#endif
  } else if (o.backend == "nccl") {
#if D2R_HAS_NCCL
    auto options = c10d::ProcessGroupNCCL::Options::create();
    options->timeout = collectiveTimeout;
    g->collectives = c10::make_intrusive<c10d::ProcessGroupNCCL>(prefixed, o.rank, o.size, options);
#else
    throw std::runtime_error(
        "backend 'nccl': this libtorch has no NCCL (it is a CPU build, or the addon was compiled without USE_C10D_NCCL); use backend 'gloo'");
#endif
  } else {
    throw std::invalid_argument("backend must be 'gloo' or 'nccl', got '" + o.backend + "'");
  }
  g->startHeartbeat();
  return g;
}

Napi::Error failureError(Napi::Env env, const std::string& message, const std::vector<int>& ranks) {
  auto error = Napi::Error::New(env, message);
  auto list = Napi::Array::New(env, ranks.size());
  for (size_t i = 0; i < ranks.size(); ++i) list.Set(i, Napi::Number::New(env, ranks[i]));
  error.Set("failedRanks", list);
  error.Set("distributed", Napi::Boolean::New(env, true));
  return error;
}

class InitWorker : public Napi::AsyncWorker {
 public:
  InitWorker(Napi::Env env, InitOptions options) : Napi::AsyncWorker(env), options_(std::move(options)), deferred_(Napi::Promise::Deferred::New(env)) {}
  Napi::Promise promise() { return deferred_.Promise(); }

 protected:
  void Execute() override {
    try {
      created_ = createGroup(options_, missing_);
    } catch (const c10::Error& e) {
      SetError(e.what_without_backtrace());
    } catch (const std::exception& e) {
      SetError(e.what());
    }
  }
  void OnOK() override {
    group = std::move(created_);
    initializing = false;
    deferred_.Resolve(Env().Undefined());
  }
  void OnError(const Napi::Error& e) override {
    initializing = false;
    deferred_.Reject(failureError(Env(), "initProcessGroup: " + e.Message(), missing_).Value());
  }

 private:
  InitOptions options_;
  Napi::Promise::Deferred deferred_;
  std::unique_ptr<Group> created_;
  std::vector<int> missing_;
};

// Runs a collective; a peer failure becomes a JS error carrying the failed ranks.
template <typename Fn>
void collective(Napi::Env env, Fn fn) {
  try {
    fn();
  } catch (const PeerFailure& e) {
    throw failureError(env, e.what(), e.ranks);
  }
}

}  // namespace

// ---- the op table's distributed functions (native/ops.table.mjs) ------------------

Napi::Value distInit(Napi::Env env, const std::string& backend, int64_t rank, int64_t worldSize, const std::string& host, int64_t port,
                     int64_t timeoutMs, const std::string& interface) {
  if (group || initializing) throw std::runtime_error("initProcessGroup: this process already has a process group (destroyProcessGroup first)");
  InitOptions o{backend, host, interface, static_cast<int>(rank), static_cast<int>(worldSize), static_cast<uint16_t>(port), Millis(timeoutMs)};
  auto* worker = new InitWorker(env, o);
  auto promise = worker->promise();
  initializing = true;
  worker->Queue();
  return promise;
}

void distAllReduce(Napi::Env env, at::Tensor& t, const std::string& op) {
  collective(env, [&] { allReduceOn(current("allReduce"), t, op); });
}

void distBroadcast(Napi::Env env, at::Tensor& t, int64_t src) {
  collective(env, [&] {
    auto& g = current("broadcast");
    if (src < 0 || src >= g.size) {
      throw std::invalid_argument("broadcast: src must be a rank in [0, " + std::to_string(g.size) + "), got " + std::to_string(src));
    }
    onContiguous(t, [&](at::Tensor& dense) {
      std::vector<at::Tensor> tensors{dense};
      c10d::BroadcastOptions opts;
      opts.rootRank = src;
      g.wait(g.collectives->broadcast(tensors, opts), "broadcast");
    });
  });
}

// Rank src's values of every tensor (parameters and buffers) in one flat broadcast.
void distBroadcastFlat(Napi::Env env, const std::vector<at::Tensor>& tensors, int64_t src) {
  collective(env, [&] {
    auto& g = current("broadcast");
    if (tensors.empty()) return;
    std::vector<at::Tensor> pieces;
    for (auto& t : tensors) pieces.push_back(t.detach().reshape(-1));
    auto flat = at::cat(pieces);
    std::vector<at::Tensor> list{flat};
    c10d::BroadcastOptions opts;
    opts.rootRank = src;
    g.wait(g.collectives->broadcast(list, opts), "broadcast");
    at::NoGradGuard noGrad;
    int64_t offset = 0;
    for (auto t : tensors) {
      t.copy_(flat.narrow(0, offset, t.numel()).view_as(t));
      offset += t.numel();
    }
  });
}

std::vector<at::Tensor> distAllGather(Napi::Env env, const at::Tensor& t) {
  std::vector<at::Tensor> out;
  collective(env, [&] {
    auto& g = current("allGather");
    auto input = t.detach().contiguous();
    std::vector<at::Tensor> outputs;
    for (int r = 0; r < g.size; ++r) outputs.push_back(at::empty_like(input));
    std::vector<std::vector<at::Tensor>> outputLists{outputs};
    std::vector<at::Tensor> inputs{input};
    g.wait(g.collectives->allgather(outputLists, inputs), "allGather");
    out = outputLists[0];
  });
  return out;
}

void distBarrier(Napi::Env env) {
  collective(env, [&] {
    auto& g = current("barrier");
    g.wait(g.collectives->barrier(), "barrier");
  });
}

// One bucket of DDP's gradient reduction: the parameters' gradients, each
// divided by the world size (as DDP does before its sum), flattened into one
// tensor with one "has a gradient" count per parameter after them, summed over
// ranks in one allreduce, and copied back. A parameter without a gradient here
// contributes zeros; it gets the average when any rank had a gradient, and
// stays without one when no rank had (a parameter no rank used, as DDP leaves it).
void distAverageGradients(Napi::Env env, const std::vector<at::Tensor>& params) {
  collective(env, [&] {
    auto& g = current("averageGradients");
    if (params.empty()) return;
    at::NoGradGuard noGrad;
    auto dtype = params[0].scalar_type();
    std::vector<at::Tensor> pieces;
    std::vector<double> present;
    for (auto& p : params) {
      if (p.scalar_type() != dtype) throw std::invalid_argument("averageGradients: a bucket holds one dtype");
      const auto& grad = p.grad();
      if (grad.defined() && grad.is_sparse()) throw std::invalid_argument("averageGradients: sparse gradients are not supported");
      pieces.push_back(grad.defined() ? grad.reshape(-1).div(g.size) : at::zeros({p.numel()}, p.options()));
      present.push_back(grad.defined() ? 1 : 0);
    }
    pieces.push_back(at::tensor(present, at::TensorOptions().dtype(dtype).device(params[0].device())));
    auto flat = at::cat(pieces);
    std::vector<at::Tensor> list{flat};
    g.wait(g.collectives->allreduce(list), "averageGradients");
    auto counts = flat.narrow(0, flat.numel() - static_cast<int64_t>(params.size()), static_cast<int64_t>(params.size())).cpu();
    int64_t offset = 0;
    for (size_t i = 0; i < params.size(); ++i) {
      auto p = params[i];
      auto average = flat.narrow(0, offset, p.numel()).view_as(p);
      offset += p.numel();
      if (counts[static_cast<int64_t>(i)].item<double>() == 0) continue;
      if (p.grad().defined()) p.mutable_grad().copy_(average);
      else p.mutable_grad() = average.clone();
    }
  });
}

// The sum over ranks as an autograd function, for statistics that a layer
// computes from its local part of the global batch (synchronised batch norm).
// Every rank computes S = sum_r s_r and a loss L_r of its own images; the
// global loss is L = sum_r L_r / worldSize (each L_r a mean over an equal share,
// weighted by the trainer when shares differ). dL/ds_r = (1 / worldSize) sum_q
// dL_q/dS: so the backward sums the incoming gradients over ranks (as
// SyncBatchNorm all-reduces sum_dy and sum_dy_xmu), every rank's parameter
// gradients then hold its images' part of d(sum_q L_q)/dtheta, and
// GradientAverager's mean over ranks is dL/dtheta: one process's gradient on
// the global batch, as DDP with SyncBatchNorm gives.
struct AllReduceSum : torch::autograd::Function<AllReduceSum> {
  static at::Tensor forward(torch::autograd::AutogradContext*, const at::Tensor& input) { return summedOverRanks(input); }
  static torch::autograd::variable_list backward(torch::autograd::AutogradContext*, torch::autograd::variable_list gradOutputs) {
    return {summedOverRanks(gradOutputs[0])};
  }
  static at::Tensor summedOverRanks(const at::Tensor& t) {
    auto sum = t.detach().clone(at::MemoryFormat::Contiguous);
    allReduceOn(current("differentiableAllReduce"), sum, "sum");
    return sum;
  }
};

at::Tensor distAllReduceSum(Napi::Env env, const at::Tensor& t) {
  at::Tensor out;
  collective(env, [&] {
    if (!at::isFloatingType(t.scalar_type())) {
      throw std::invalid_argument("differentiableAllReduce: needs a floating-point tensor, got " + std::string(c10::toString(t.scalar_type())));
    }
    out = AllReduceSum::apply(t);
  });
  return out;
}

void distDestroy() { group.reset(); }

Napi::Value distState(Napi::Env env) {
  if (!group) return env.Null();
  auto out = Napi::Object::New(env);
  out.Set("rank", Napi::Number::New(env, group->rank));
  out.Set("worldSize", Napi::Number::New(env, group->size));
  out.Set("backend", Napi::String::New(env, group->backend));
  return out;
}

Napi::Value distBackends(Napi::Env env) {
  auto out = Napi::Array::New(env);
  uint32_t n = 0;
  if (D2R_HAS_GLOO) out.Set(n++, Napi::String::New(env, "gloo"));
  if (D2R_HAS_NCCL) out.Set(n++, Napi::String::New(env, "nccl"));
  return out;
}

}  // namespace d2r
