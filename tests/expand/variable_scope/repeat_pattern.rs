use scope::{variable_scope, Variable};

/// A cell, reduced to one variable.
#[variable_scope("cell", units: usize)]
pub struct Cell {
    #[var(shape = [units])]
    pub bias: Variable,
}

/// TF1's `MultiRNNCell`: `cell_0 ..`, written as a pattern.
#[variable_scope("multi_rnn_cell", n: usize)]
pub struct MultiCell {
    #[model(repeat = n, scope = "cell_{i}", args(4))]
    pub cells: Vec<Cell>,
}

fn main() {}
