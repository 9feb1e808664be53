//! TF1's `BasicLSTMCell` (`tf.nn.rnn_cell.BasicLSTMCell`): kernel, bias, gates `i, j, f, o`,
//! `forget_bias` inside the sigmoid, state `(c, h)`.

use ndarray::{Array2, ArrayView2};

use crate::error::Error;
use crate::init::Initializer;
use crate::model::{ManifestEntry, Model, ModelScope, VarManifest};
use crate::registry::{Registry, VarSpec};
use crate::scope::VariableScope;
use crate::tape::{NodeId, Real, Tape};
use crate::train_error::TrainError;
use crate::variable::Variable;

/// An LSTM state `(c, h)`, each `[batch, units]` (TF's `LSTMStateTuple`).
#[derive(Clone, Debug, PartialEq)]
pub struct LstmState {
    /// The cell state.
    pub c: Array2<f32>,
    /// The output (hidden) state.
    pub h: Array2<f32>,
}

impl LstmState {
    /// The zero state for `batch` rows of `units` (TF's `cell.zero_state`).
    pub fn zeros(batch: usize, units: usize) -> LstmState {
        LstmState {
            c: Array2::zeros((batch, units)),
            h: Array2::zeros((batch, units)),
        }
    }
}

/// TF1's `BasicLSTMCell(num_units)` with its defaults: `forget_bias = 1.0`, `tanh`,
/// `state_is_tuple = True`.
///
/// Its variables are made by [`Registry::get_variable`] in the sub-scope `basic_lstm_cell`
/// of the current variable scope, with TF's names and shapes:
///
/// * `<scope>/basic_lstm_cell/kernel`, `[input_size + num_units, 4 * num_units]`, with no
///   initializer of its own (the scope's, else glorot-uniform, as in TF);
/// * `<scope>/basic_lstm_cell/bias`, `[4 * num_units]`, zeros.
///
/// One step, with `z = [x | h] · kernel + bias` split into `i, j, f, o`:
/// `c' = c ⊙ σ(f + forget_bias) + σ(i) ⊙ tanh(j)`, `h' = tanh(c') ⊙ σ(o)`.
///
/// ```
/// use scope::nn::BasicLstmCell;
/// use scope::Registry;
/// let reg = Registry::with_seed(1);
/// let cell = reg.variable_scope("rnn").with(|_| {
///     reg.variable_scope("cell").with(|_| BasicLstmCell::new(&reg, 11, 11))
/// })?;
/// assert_eq!(cell.kernel().name(), "rnn/cell/basic_lstm_cell/kernel");
/// assert_eq!(cell.kernel().shape(), &[22, 44]);
/// assert_eq!(cell.bias().name(), "rnn/cell/basic_lstm_cell/bias");
/// # Ok::<(), scope::Error>(())
/// ```
///
/// It is a [`Model`], so a `model!` or `#[variable_scope]` struct can hold one as a nested
/// model (`cell { lstm: model BasicLstmCell(hidden, hidden) }`).
#[derive(Clone, Debug)]
pub struct BasicLstmCell {
    scope: VariableScope,
    kernel: Variable,
    bias: Variable,
    input_size: usize,
    num_units: usize,
    forget_bias: f32,
}

impl BasicLstmCell {
    /// Creates (or, in a reusing scope, reuses) the cell's variables in the sub-scope
    /// `basic_lstm_cell` of the current variable scope.
    ///
    /// Fails with [`Error::ShapeOverflow`] if the kernel's shape does not fit in `usize`,
    /// and with the registry's errors (for instance a shape mismatch under reuse).
    pub fn new(
        reg: &Registry,
        input_size: usize,
        num_units: usize,
    ) -> Result<BasicLstmCell, Error> {
        Self::build(reg, (input_size, num_units))
    }

    /// The kernel, `[input_size + num_units, 4 * num_units]`.
    pub fn kernel(&self) -> &Variable {
        &self.kernel
    }

    /// The bias, `[4 * num_units]`.
    pub fn bias(&self) -> &Variable {
        &self.bias
    }

    /// The width of the cell's input.
    pub fn input_size(&self) -> usize {
        self.input_size
    }

    /// The number of units (the width of `c` and `h`).
    pub fn num_units(&self) -> usize {
        self.num_units
    }

    /// The constant added to the forget gate's pre-activation (1.0).
    pub fn forget_bias(&self) -> f32 {
        self.forget_bias
    }

    /// One step on a tape: `x` is `[batch, input_size]`, `(c, h)` are `[batch, num_units]`
    /// nodes; returns the new `(c, h)`. The kernel and bias go on the tape as variable leaves,
    /// so [`Tape::backward`] yields their gradients.
    pub fn step<T: Real>(
        &self,
        tape: &mut Tape<T>,
        x: NodeId,
        (c, h): (NodeId, NodeId),
    ) -> Result<(NodeId, NodeId), TrainError> {
        let kernel = tape.variable(&self.kernel)?;
        let bias = tape.variable(&self.bias)?;
        let xh = tape.concat(&[x, h], 1)?;
        let zk = tape.matmul(xh, kernel)?;
        let z = tape.add(zk, bias)?;
        let c = tape.lstm_c(z, c, f64::from(self.forget_bias))?;
        let h = tape.lstm_h(z, c)?;
        Ok((c, h))
    }

    /// One step without a tape (inference): updates `state` in place from input `x`
    /// (`[batch, input_size]`).
    pub fn step_f32(
        &self,
        x: ArrayView2<'_, f32>,
        state: &mut LstmState,
    ) -> Result<(), TrainError> {
        let (b, u) = (x.nrows(), self.num_units);
        if x.ncols() != self.input_size {
            return Err(TrainError::InputShape {
                input: "x",
                expected: vec![b, self.input_size],
                got: x.shape().to_vec(),
            });
        }
        for (what, m) in [("state.c", &state.c), ("state.h", &state.h)] {
            if m.dim() != (b, u) {
                return Err(TrainError::InputShape {
                    input: what,
                    expected: vec![b, u],
                    got: m.shape().to_vec(),
                });
            }
        }
        let kernel = self.kernel.read();
        let bias = self.bias.read();
        let k = kernel
            .view_f32()
            .and_then(|v| v.into_dimensionality::<ndarray::Ix2>().ok())
            .ok_or_else(|| TrainError::unsupported(&self.kernel))?;
        let bias = bias
            .as_f32()
            .ok_or_else(|| TrainError::unsupported(&self.bias))?;
        let mut z = x.dot(&k.slice(ndarray::s![..self.input_size, ..]));
        z += &state.h.dot(&k.slice(ndarray::s![self.input_size.., ..]));
        let fb = self.forget_bias;
        for r in 0..b {
            for j in 0..u {
                let zi = z[[r, j]] + bias[j];
                let zj = z[[r, u + j]] + bias[u + j];
                let zf = z[[r, 2 * u + j]] + bias[2 * u + j];
                let zo = z[[r, 3 * u + j]] + bias[3 * u + j];
                let c =
                    state.c[[r, j]] * Real::sigmoid(zf + fb) + Real::sigmoid(zi) * Real::tanh(zj);
                state.c[[r, j]] = c;
                state.h[[r, j]] = Real::tanh(c) * Real::sigmoid(zo);
            }
        }
        Ok(())
    }
}

impl Model for BasicLstmCell {
    /// `(input_size, num_units)`.
    type Args = (usize, usize);
    const SCOPE: &'static str = "basic_lstm_cell";
    const MANIFEST: &'static [ManifestEntry] = &[
        ManifestEntry::Variable(VarManifest {
            name: "kernel",
            dtype: None,
            trainable: true,
            shape: Some("[input_size + num_units, 4 * num_units]"),
            initializer: None,
            partitioner: None,
            regularizer: None,
            constraint: None,
            collections: None,
        }),
        ManifestEntry::Variable(VarManifest {
            name: "bias",
            dtype: None,
            trainable: true,
            shape: Some("[4 * num_units]"),
            initializer: Some("zeros"),
            partitioner: None,
            regularizer: None,
            constraint: None,
            collections: None,
        }),
    ];

    fn build_in(
        reg: &Registry,
        scope: &str,
        (input_size, num_units): (usize, usize),
    ) -> Result<BasicLstmCell, Error> {
        let overflow = || Error::ShapeOverflow {
            shape: vec![input_size, num_units],
        };
        let rows = input_size.checked_add(num_units).ok_or_else(overflow)?;
        let cols = num_units.checked_mul(4).ok_or_else(overflow)?;
        let entered = ModelScope::enter(reg, scope)?;
        let kernel = reg.get_variable("kernel", VarSpec::new().shape([rows, cols]))?;
        let bias = reg.get_variable(
            "bias",
            VarSpec::new().shape([cols]).initializer(Initializer::Zeros),
        )?;
        Ok(BasicLstmCell {
            scope: entered.scope().clone(),
            kernel,
            bias,
            input_size,
            num_units,
            forget_bias: 1.0,
        })
    }

    fn scope(&self) -> &VariableScope {
        &self.scope
    }

    fn for_each_variable(&self, f: &mut dyn FnMut(&Variable)) {
        f(&self.kernel);
        f(&self.bias);
    }
}
