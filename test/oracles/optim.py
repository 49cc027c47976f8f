"""torch.optim oracles: an optimiser run over fixed gradients, and learning-rate schedules."""
import torch

from oracle_io import serve


def param_groups(params, groups):
    """Groups as data: each {'params': [indices], ...options}."""
    return [{**g, 'params': [params[i] for i in g['params']]} for g in groups]


def optimizer_run(inp):
    """Runs torch.optim.<type> over 'params' with the gradients 'grads'[k][i] of step k (None: no gradient).

    'optimizer' is {type, options, groups (optional: all params in one group)}; 'add_group' ({after_step, group})
    adds a parameter group after that step. Returns the parameters 'p<i>' and the state '<index>.<name>'."""
    params = [p.clone().requires_grad_() for p in inp['params']]
    spec = inp['optimizer']
    groups = param_groups(params, spec['groups']) if 'groups' in spec else params
    opt = getattr(torch.optim, spec['type'])(groups, **spec.get('options', {}))
    add = inp.get('add_group')
    for k, step_grads in enumerate(inp['grads']):
        opt.zero_grad(set_to_none=True)
        for p, g in zip(params, step_grads):
            p.grad = None if g is None else g.clone()
        opt.step()
        if add is not None and k == add['after_step']:
            opt.add_param_group(param_groups(params, [add['group']])[0])
    out = {}
    for i, p in enumerate(params):
        out['p%d' % i] = p
    for i, st in opt.state_dict()['state'].items():
        for name, v in st.items():
            if v is None:  # SGD without momentum keeps an empty momentum_buffer slot
                continue
            out['%d.%s' % (i, name)] = float(v) if name == 'step' else v
    return out


def schedules(inp):
    """The lr of SGD(lr) before each of 'steps' steps of each lr_scheduler {type, kwargs, steps}, by name."""
    out = {}
    for name, s in inp['schedules'].items():
        p = torch.zeros(1, requires_grad=True)
        opt = torch.optim.SGD([p], lr=inp['lr'])
        scheduler = getattr(torch.optim.lr_scheduler, s['type'])(opt, **s['kwargs'])
        lrs = []
        for _ in range(s['steps']):
            lrs.append(opt.param_groups[0]['lr'])
            opt.step()
            scheduler.step()
        out[name] = torch.tensor(lrs, dtype=torch.float64)
    return out


if __name__ == '__main__':
    serve({'optimizer_run': optimizer_run, 'schedules': schedules})
