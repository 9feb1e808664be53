use scope::{model, variable_scope, Variable};

model! {
    /// A cell.
    pub struct Cell("cell", units: usize) {
        kernel: [units, units],
    }
}

/// TF1's MultiRNNCell, an optional projection, a tie.
#[variable_scope("multi_rnn_cell", n: usize, project: bool, word_table: Variable)]
pub struct Multi {
    /// `cell_0 .. cell_{n-1}`.
    #[model(repeat = n, scope = "cell", args(4))]
    pub cells: Vec<Cell>,
    /// Built the way tf.layers builds an unnamed layer.
    #[model(when = project, default_name, args(4))]
    pub projection: Option<Cell>,
    /// Another model's table.
    #[var(tied = &word_table, shape = [7, 4], dtype = f32)]
    pub table: Variable,
}

fn main() {}
