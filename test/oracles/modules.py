"""Module oracle for test/nn/moduleOracle.ts: builds a torch.nn module from its description
and reports its state-dict layout; given tensor files of our weights, an input and loss
weights, also its eval output, train-mode output, input and parameter gradients of
sum(output * weights), and its state after that train-mode step."""
from collections import OrderedDict

import torch
import torch.nn as nn

import reference_models
from oracle_io import dtype_name, read_tensors, serve, write_tensors


def build(spec):
    """spec: {type: a class of reference_models.py or torch.nn, args, kwargs, children: a list or a named object}."""
    cls = getattr(reference_models, spec['type'], None) or getattr(nn, spec['type'])
    args = [tuple(a) if isinstance(a, list) else a for a in spec.get('args', [])]
    kwargs = {k: tuple(v) if isinstance(v, list) else v for k, v in spec.get('kwargs', {}).items()}
    children = spec.get('children')
    if isinstance(children, list):
        args += [build(c) for c in children]
    elif isinstance(children, dict):
        args.append(OrderedDict((name, build(c)) for name, c in children.items()))
    return cls(*args, **kwargs)


def module(inp):
    model = build(inp['spec'])
    sd = model.state_dict()
    out = {
        'keys': list(sd.keys()),
        'shapes': [list(v.shape) for v in sd.values()],
        'dtypes': [dtype_name(v.dtype) for v in sd.values()],
        'parameter_names': [k for k, _ in model.named_parameters()],
    }
    if not inp['run']:
        return out
    model.load_state_dict(read_tensors(inp['state_path']))
    data = read_tensors(inp['data_path'])
    result = {}
    model.eval()
    with torch.no_grad():
        result['eval'] = model(data['x'])
    model.train()
    x = data['x'].requires_grad_()
    y = model(x)
    (y * data['w']).sum().backward()
    result['train'] = y
    result['input_grad'] = x.grad
    for k, p in model.named_parameters():
        if p.grad is not None:
            result['grad.' + k] = p.grad
    for k, v in model.state_dict().items():
        result['state.' + k] = v
    write_tensors(inp['result_path'], result)
    return out


if __name__ == '__main__':
    serve({'module': module})
