//! Repeated sub-models named by patterns: GPT-2's `h{i}` (no underscore), the default
//! `layer_{i}`, and `MultiRNNCell`'s `cell_{i}`, in both macros.

use scope::{model, variable_scope, Model, Registry, Variable};

model! {
    /// A block, reduced to one variable.
    pub struct Block("block", width: usize) {
        w: [1, width, width],
    }

    /// GPT-2: `model/h0 .. model/h{n-1}`.
    pub struct Gpt2("model", n: usize, width: usize) {
        #[model(repeat = n, scope = "h{i}")]
        h: model Block(width),
        // Beside `h{i}`: no element of it is `h_extra`, `hx` or `h{i}x`.
        h_extra { w: [1] }
        hx { w: [1] }
        #[model(repeat = n, scope = "h{i}x")]
        hx_blocks: model Block(width),
        #[model(repeat = n)]
        layer: model Block(width),
    }
}

/// TF1's `MultiRNNCell`.
#[variable_scope("multi_rnn_cell", n: usize)]
pub struct Multi {
    #[model(repeat = n, scope = "cell_{i}", args(2))]
    pub cells: Vec<Block>,
    #[var(shape = [1])]
    pub cell: Variable,
}

fn main() {
    let reg = Registry::new();
    let gpt2 = Gpt2::new(&reg, 2, 3).unwrap();
    assert_eq!(gpt2.h[1].scope_name(), "model/h1");
    assert_eq!(gpt2.hx_blocks[0].scope_name(), "model/h0x");
    assert_eq!(gpt2.layer[0].scope_name(), "model/layer_0");
    let multi = Multi::new(&reg, 2).unwrap();
    assert_eq!(multi.cells[1].scope_name(), "multi_rnn_cell/cell_1");
    let paths: Vec<String> = Gpt2::manifest().into_iter().map(|(p, _)| p).collect();
    assert_eq!(paths[0], "h{i}/w");
}
