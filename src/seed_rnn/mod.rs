//! The seed RNN: input layer, TF1 `BasicLSTMCell`, output layer with ReLU, the vector
//! mean-squared cost, and Adam in scope `trian`, built through the registry with TF's names.
//!
//! Training runs on buffers allocated once per model, with a hand-written backward pass: the
//! runtime's fused LSTM ([`crate::nn::LstmSequence`]: the input projection for all time steps
//! in one matrix product, the gates fused per step) between allocation-free linear layers
//! (see the private `kernels` module). A steady step allocates nothing as long as every
//! product is small or narrow enough for the runtime's direct matrix loops: the seed's sizes
//! are, and so is any configuration whose `I·H`, `4H·H` and `H·O` are at most 4096
//! (`tests/it/seed_rnn_alloc.rs` checks several). [`SeedRnn::cost_on_tape`] builds the same
//! graph from the gradient-checked [`Tape`] ops, and the tests check that the two agree.

use ndarray::{ArrayD, ArrayView1, ArrayView2, ArrayView3, Ix2, IxDyn};

use self::kernels::{Dims, GradBufs, Weights, Workspace};
use crate::nn::{BasicLstmCell, LstmState};
use crate::optim::{Adam, Optimizer};
use crate::tape::{Gradients, NodeId, Real, Tape};
use crate::{model, Model, Registry, Tensor, TrainError, Variable};

mod kernels;
#[cfg(test)]
mod tests;

/// Sizes and learning rate of a [`SeedRnn`].
///
/// The default is the seed program's training configuration: batch 20, 20 time steps,
/// 10 inputs, 2 outputs, 11 LSTM units, learning rate 0.01.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct SeedRnnConfig {
    /// Rows per batch `B`.
    pub batch_size: usize,
    /// Time steps per sequence `T`.
    pub time_steps: usize,
    /// Input features `I`.
    pub input_size: usize,
    /// Outputs `O`.
    pub output_size: usize,
    /// LSTM units `H` (also the input layer's width).
    pub cell_size: usize,
    /// Adam's learning rate.
    pub learning_rate: f32,
}

impl Default for SeedRnnConfig {
    fn default() -> Self {
        SeedRnnConfig {
            batch_size: 20,
            time_steps: 20,
            input_size: 10,
            output_size: 2,
            cell_size: 11,
            learning_rate: 0.01,
        }
    }
}

impl SeedRnnConfig {
    /// The seed's test configuration: the same, one time step at a time.
    pub fn for_test(&self) -> SeedRnnConfig {
        SeedRnnConfig {
            time_steps: 1,
            ..*self
        }
    }

    fn validate(&self) -> Result<(), TrainError> {
        let sizes = [
            ("batch_size", self.batch_size),
            ("time_steps", self.time_steps),
            ("input_size", self.input_size),
            ("output_size", self.output_size),
            ("cell_size", self.cell_size),
        ];
        for (name, v) in sizes {
            if v == 0 {
                return Err(TrainError::Config {
                    detail: format!("{name} is 0; every size of the seed RNN must be at least 1"),
                });
            }
        }
        let dims = Dims {
            b: self.batch_size,
            t: self.time_steps,
            i: self.input_size,
            h: self.cell_size,
            o: self.output_size,
        };
        // Every buffer of the training workspace, and the kernel [2H, 4H], within the
        // registry's element limit: refused here rather than by a failed allocation.
        let kernel = self
            .cell_size
            .checked_mul(self.cell_size)
            .and_then(|x| x.checked_mul(8));
        let fits = |n: Option<usize>| n.is_some_and(|n| n <= crate::DEFAULT_MAX_ELEMENTS);
        if !fits(Workspace::elements(dims)) || !fits(kernel) {
            return Err(TrainError::Config {
                detail: format!(
                    "batch {} x {} steps with {} inputs, {} units and {} outputs needs more than \
                     {} floats of training buffers; use smaller batches or sizes",
                    self.batch_size,
                    self.time_steps,
                    self.input_size,
                    self.cell_size,
                    self.output_size,
                    crate::DEFAULT_MAX_ELEMENTS
                ),
            });
        }
        if !(self.learning_rate.is_finite() && self.learning_rate >= 0.0) {
            return Err(TrainError::Config {
                detail: format!(
                    "learning_rate {} must be finite and not negative",
                    self.learning_rate
                ),
            });
        }
        Ok(())
    }
}

model! {
    /// The seed RNN's six parameters, declared once: a linear input layer, TF1's
    /// `BasicLSTMCell` on its H-wide output, and an output layer (the ReLU is applied by
    /// [`SeedRnn`]). [`SeedRnn::new`] builds them with `build_here`, opening no scope of its
    /// own, exactly like the seed's `RNN(config)` class inside `variable_scope('rnn')`;
    /// `SeedRnnParams::new(&reg, i, h, o)` opens `rnn` itself.
    pub struct SeedRnnParams("rnn", input_size: usize, cell_size: usize, output_size: usize) {
        input_layer {
            weights: [input_size, cell_size] = random_normal(0.0, 0.5),
            biases: [cell_size] = constant(0.1),
        }
        cell { lstm: model BasicLstmCell(cell_size, cell_size) }
        output_layer {
            weights: [cell_size, output_size] = random_normal(0.0, 0.5),
            biases: [output_size] = constant(0.1),
        }
    }
}

/// Where a forward pass starts its LSTM state.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum InitialState {
    /// From zeros (TF's `cell.zero_state`): what happens when `cell_init_state` is not fed.
    Zeros,
    /// From [`SeedRnn::state`]: the final state of the previous pass (or what
    /// [`SeedRnn::set_state`] put there), as the seed feeds `cell_init_state` back in.
    Carried,
}

/// The seed program's RNN, built through the registry.
///
/// In the current variable scope (the seed uses `rnn`) it creates, in TF's order:
/// `input_layer/weights` `[I, H]` (random normal, stddev 0.5), `input_layer/biases` `[H]`
/// (0.1), `cell/basic_lstm_cell/{kernel, bias}` ([`BasicLstmCell`] of H units on the H-wide
/// input layer output), `output_layer/weights` `[H, O]` (random normal, stddev 0.5),
/// `output_layer/biases` `[O]` (0.1), and then, in sub-scope `trian` (the seed's spelling),
/// an [`Adam`] optimizer over those six variables.
///
/// Built a second time in the same scope after `reuse_variables()` (the seed's test RNN,
/// usually with [`SeedRnnConfig::for_test`]), it shares all six variables and Adam's slots,
/// so training either model is seen by both.
///
/// The math (`N = B * T`, row `b * T + t` is batch row `b` at time `t`):
/// `A = X · W_in + b_in`; the LSTM runs over `A`; `pred = relu(Hs · W_out + b_out)`;
/// `cost[k] = Σ_t mean_b (pred - ys)²`; training minimizes `Σ_k cost[k]`.
///
/// ```
/// use scope::seed_rnn::{InitialState, SeedRnn, SeedRnnConfig};
/// use scope::Registry;
/// use ndarray::Array3;
///
/// let reg = Registry::with_seed(1);
/// let config = SeedRnnConfig { batch_size: 2, time_steps: 3, ..SeedRnnConfig::default() };
/// let (mut train, mut test) = reg.variable_scope("rnn").with(|scope| {
///     let train = SeedRnn::new(&reg, config)?;
///     scope.reuse_variables();
///     let test = SeedRnn::new(&reg, config.for_test())?;
///     Ok::<_, scope::TrainError>((train, test))
/// })?;
/// let xs = Array3::from_elem((2, 3, 10), 0.5f32);
/// let ys = Array3::from_elem((2, 3, 2), 0.25f32);
/// let before = train.train_step(xs.view(), ys.view(), InitialState::Zeros)?;
/// let after = train.train_step(xs.view(), ys.view(), InitialState::Zeros)?;
/// assert!(after < before);
/// // The test RNN reads the same, updated weights.
/// let pred = test.forward(xs.slice(ndarray::s![.., ..1, ..]), InitialState::Zeros)?;
/// assert_eq!(pred.dim(), (2, 2));
/// # Ok::<(), scope::TrainError>(())
/// ```
#[derive(Debug)]
pub struct SeedRnn {
    config: SeedRnnConfig,
    params: SeedRnnParams,
    optimizer: Adam,
    check_finite: bool,
    ws: Workspace,
    grads: Gradients<f32>,
    state: LstmState,
    loss: f32,
}

fn matrix<'a>(t: &'a Tensor, var: &Variable) -> Result<ArrayView2<'a, f32>, TrainError> {
    t.view_f32()
        .and_then(|v| v.into_dimensionality::<Ix2>().ok())
        .ok_or_else(|| TrainError::unsupported(var))
}

fn flat<'a>(t: &'a Tensor, var: &Variable) -> Result<&'a [f32], TrainError> {
    t.as_f32().ok_or_else(|| TrainError::unsupported(var))
}

impl SeedRnn {
    /// The sub-scope the optimizer is built in (the seed's spelling).
    pub const OPTIMIZER_SCOPE: &'static str = "trian";

    /// Builds the model in the current variable scope (see the type's docs for the names).
    /// Under reuse it shares the existing variables; the shapes must then agree.
    pub fn new(reg: &Registry, config: SeedRnnConfig) -> Result<SeedRnn, TrainError> {
        config.validate()?;
        let sizes = (config.input_size, config.cell_size, config.output_size);
        let params = SeedRnnParams::build_here(reg, sizes)?;
        SeedRnn::from_params(reg, config, params)
    }

    /// Builds the trainer over parameters made elsewhere, for instance by a `model!` struct
    /// (as `examples/rnn.rs` declares them), and creates the Adam optimizer in sub-scope
    /// [`SeedRnn::OPTIMIZER_SCOPE`] of the current variable scope.
    ///
    /// Fails with [`TrainError::Config`] when a parameter's shape does not fit `config`, and
    /// with [`TrainError::UnsupportedDtype`] when one is not `float32`.
    pub fn from_params(
        reg: &Registry,
        config: SeedRnnConfig,
        params: SeedRnnParams,
    ) -> Result<SeedRnn, TrainError> {
        config.validate()?;
        let SeedRnnConfig {
            input_size: i,
            output_size: o,
            cell_size: h,
            ..
        } = config;
        let SeedRnnParams {
            input_layer_weights: w_in,
            input_layer_biases: b_in,
            cell_lstm: cell,
            output_layer_weights: w_out,
            output_layer_biases: b_out,
            ..
        } = &params;
        let expected: [(&Variable, Vec<usize>); 6] = [
            (w_in, vec![i, h]),
            (b_in, vec![h]),
            (cell.kernel(), vec![2 * h, 4 * h]),
            (cell.bias(), vec![4 * h]),
            (w_out, vec![h, o]),
            (b_out, vec![o]),
        ];
        for (var, shape) in &expected {
            if var.dtype() != crate::DType::F32 {
                return Err(TrainError::unsupported(var));
            }
            if var.shape() != shape.as_slice() {
                return Err(TrainError::Config {
                    detail: format!(
                        "variable {} has shape {:?}, but the seed RNN with this config needs \
                         {:?}",
                        var.name(),
                        var.shape(),
                        shape
                    ),
                });
            }
        }
        let vars = [
            w_in.clone(),
            b_in.clone(),
            cell.kernel().clone(),
            cell.bias().clone(),
            w_out.clone(),
            b_out.clone(),
        ];
        let optimizer = reg
            .variable_scope(Self::OPTIMIZER_SCOPE)
            .with(|_| Adam::new(reg, config.learning_rate, &vars))?;
        let mut grads = Gradients::new();
        for v in &vars {
            grads.add(v, ArrayD::zeros(IxDyn(v.shape())))?;
        }
        let dims = Dims {
            b: config.batch_size,
            t: config.time_steps,
            i,
            h,
            o,
        };
        Ok(SeedRnn {
            config,
            params,
            optimizer,
            check_finite: false,
            ws: Workspace::new(dims)?,
            grads,
            state: LstmState::zeros(config.batch_size, h),
            loss: f32::NAN,
        })
    }

    /// The configuration.
    pub fn config(&self) -> &SeedRnnConfig {
        &self.config
    }

    /// The six trainable variables in creation order: input weights and biases, LSTM kernel
    /// and bias, output weights and biases.
    pub fn variables(&self) -> Vec<Variable> {
        vec![
            self.params.input_layer_weights.clone(),
            self.params.input_layer_biases.clone(),
            self.params.cell_lstm.kernel().clone(),
            self.params.cell_lstm.bias().clone(),
            self.params.output_layer_weights.clone(),
            self.params.output_layer_biases.clone(),
        ]
    }

    /// The six parameters, as declared by [`SeedRnnParams`].
    pub fn params(&self) -> &SeedRnnParams {
        &self.params
    }

    /// The LSTM cell.
    pub fn cell(&self) -> &BasicLstmCell {
        &self.params.cell_lstm
    }

    /// The model's Adam optimizer (scope `trian`).
    pub fn optimizer(&self) -> &Adam {
        &self.optimizer
    }

    /// Turns the NaN/Inf check on or off: when on, [`SeedRnn::train_step`] refuses a
    /// non-finite loss or gradient with an error naming it, before any update.
    pub fn set_check_finite(&mut self, on: bool) {
        self.check_finite = on;
        self.optimizer.set_check_finite(on);
    }

    fn dims(&self) -> Dims {
        Dims {
            b: self.config.batch_size,
            t: self.config.time_steps,
            i: self.config.input_size,
            h: self.config.cell_size,
            o: self.config.output_size,
        }
    }

    fn check_input(
        &self,
        what: &'static str,
        a: &ArrayView3<'_, f32>,
        last: usize,
    ) -> Result<(), TrainError> {
        let want = [self.config.batch_size, self.config.time_steps, last];
        if a.shape() != want {
            return Err(TrainError::InputShape {
                input: what,
                expected: want.to_vec(),
                got: a.shape().to_vec(),
            });
        }
        Ok(())
    }

    /// The forward pass on batch `xs` `[B, T, I]`: returns `pred` `[B * T, O]` and leaves the
    /// final state in [`SeedRnn::state`].
    pub fn forward(
        &mut self,
        xs: ArrayView3<'_, f32>,
        init: InitialState,
    ) -> Result<ArrayView2<'_, f32>, TrainError> {
        self.run(xs, None, init, false)?;
        Ok(self.pred())
    }

    /// Forward pass and the cost vector `[O]` (`cost[k] = Σ_t mean_b (pred - ys)²`).
    pub fn cost(
        &mut self,
        xs: ArrayView3<'_, f32>,
        ys: ArrayView3<'_, f32>,
        init: InitialState,
    ) -> Result<ArrayView1<'_, f32>, TrainError> {
        self.run(xs, Some(ys), init, false)?;
        Ok(self.last_cost())
    }

    /// Forward and backward: the gradients of `Σ_k cost[k]` with respect to the six
    /// variables (TF's `tf.gradients(cost, vars)`), keyed by variable.
    pub fn compute_gradients(
        &mut self,
        xs: ArrayView3<'_, f32>,
        ys: ArrayView3<'_, f32>,
        init: InitialState,
    ) -> Result<&Gradients<f32>, TrainError> {
        self.run(xs, Some(ys), init, true)?;
        Ok(&self.grads)
    }

    /// One training step with the model's Adam: forward, backward, update in place.
    /// Returns the loss `Σ_k cost[k]` before the update.
    pub fn train_step(
        &mut self,
        xs: ArrayView3<'_, f32>,
        ys: ArrayView3<'_, f32>,
        init: InitialState,
    ) -> Result<f32, TrainError> {
        self.run(xs, Some(ys), init, true)?;
        self.check(self.optimizer.checks_finite())?;
        self.optimizer.apply(&self.grads)?;
        Ok(self.loss)
    }

    /// One training step with another optimizer.
    pub fn train_step_with(
        &mut self,
        xs: ArrayView3<'_, f32>,
        ys: ArrayView3<'_, f32>,
        init: InitialState,
        optimizer: &mut dyn Optimizer,
    ) -> Result<f32, TrainError> {
        self.run(xs, Some(ys), init, true)?;
        self.check(optimizer.checks_finite())?;
        optimizer.apply(&self.grads)?;
        Ok(self.loss)
    }

    /// With the check on, refuses a non-finite loss, and non-finite gradients unless the
    /// optimizer about to apply them scans them itself (once per step is enough).
    fn check(&self, optimizer_checks: bool) -> Result<(), TrainError> {
        if self.check_finite {
            if !self.loss.is_finite() {
                return Err(TrainError::NonFiniteLoss {
                    value: f64::from(self.loss),
                });
            }
            if !optimizer_checks {
                self.grads.check_finite()?;
            }
        }
        Ok(())
    }

    /// `pred` `[B * T, O]` of the last forward pass.
    pub fn pred(&self) -> ArrayView2<'_, f32> {
        let d = self.dims();
        ArrayView2::from_shape((d.b * d.t, d.o), self.ws.pred()).expect("pred is [B * T, O]")
    }

    /// The cost vector `[O]` of the last pass that had targets.
    pub fn last_cost(&self) -> ArrayView1<'_, f32> {
        ArrayView1::from(self.ws.cost_values())
    }

    /// The loss `Σ_k cost[k]` of the last pass that had targets (NaN before any).
    pub fn loss(&self) -> f32 {
        self.loss
    }

    /// The gradients of the last backward pass.
    pub fn gradients(&self) -> &Gradients<f32> {
        &self.grads
    }

    /// The LSTM state after the last forward pass (zeros before any).
    pub fn state(&self) -> &LstmState {
        &self.state
    }

    /// Sets the state the next [`InitialState::Carried`] pass starts from (TF: feeding
    /// `cell_init_state`). It must be `[batch_size, cell_size]`.
    pub fn set_state(&mut self, state: &LstmState) -> Result<(), TrainError> {
        let want = (self.config.batch_size, self.config.cell_size);
        for (what, m) in [("state.c", &state.c), ("state.h", &state.h)] {
            if m.dim() != want {
                return Err(TrainError::InputShape {
                    input: what,
                    expected: vec![want.0, want.1],
                    got: m.shape().to_vec(),
                });
            }
        }
        self.state.c.assign(&state.c);
        self.state.h.assign(&state.h);
        Ok(())
    }

    fn run(
        &mut self,
        xs: ArrayView3<'_, f32>,
        ys: Option<ArrayView3<'_, f32>>,
        init: InitialState,
        backward: bool,
    ) -> Result<(), TrainError> {
        let d = self.dims();
        self.check_input("xs", &xs, d.i)?;
        if let Some(ys) = &ys {
            self.check_input("ys", ys, d.o)?;
        }
        self.ws.load_inputs(&xs);
        if init == InitialState::Zeros {
            self.state.c.fill(0.0);
            self.state.h.fill(0.0);
        }
        let guards = [
            self.params.input_layer_weights.read(),
            self.params.input_layer_biases.read(),
            self.params.cell_lstm.kernel().read(),
            self.params.cell_lstm.bias().read(),
            self.params.output_layer_weights.read(),
            self.params.output_layer_biases.read(),
        ];
        let w = Weights {
            w_in: matrix(&guards[0], &self.params.input_layer_weights)?,
            b_in: flat(&guards[1], &self.params.input_layer_biases)?,
            k: matrix(&guards[2], self.params.cell_lstm.kernel())?,
            b_k: flat(&guards[3], self.params.cell_lstm.bias())?,
            w_out: matrix(&guards[4], &self.params.output_layer_weights)?,
            b_out: flat(&guards[5], &self.params.output_layer_biases)?,
        };
        self.ws
            .forward(&w, self.params.cell_lstm.forget_bias(), &mut self.state);
        if let Some(ys) = ys {
            self.ws.load_targets(&ys);
            self.loss = self.ws.cost();
            if backward {
                let mut slots = self.grads.iter_mut().map(|(_, g)| {
                    g.as_slice_mut()
                        .expect("gradient buffers are standard layout")
                });
                let mut next = || slots.next().expect("six gradient buffers");
                let bufs = GradBufs {
                    w_in: next(),
                    b_in: next(),
                    k: next(),
                    b_k: next(),
                    w_out: next(),
                    b_out: next(),
                };
                self.ws.backward(&w, bufs);
            }
        }
        Ok(())
    }

    /// Builds the cost vector `[O]` on a tape from the zero state, with the tape's generic
    /// ops and [`BasicLstmCell::step`]: the same graph as TF's, for checking and for
    /// composing with other losses. `backward` on the returned node yields the gradients of
    /// `Σ_k cost[k]`.
    pub fn cost_on_tape<T: Real>(
        &self,
        tape: &mut Tape<T>,
        xs: ArrayView3<'_, f32>,
        ys: ArrayView3<'_, f32>,
    ) -> Result<NodeId, TrainError> {
        let d = self.dims();
        self.check_input("xs", &xs, d.i)?;
        self.check_input("ys", &ys, d.o)?;
        let (b, t, h, o) = (d.b, d.t, d.h, d.o);
        let x = tape.constant(xs.mapv(T::from_f32).into_dyn());
        let x = tape.reshape(x, &[b * t, d.i])?;
        let w_in = tape.variable(&self.params.input_layer_weights)?;
        let b_in = tape.variable(&self.params.input_layer_biases)?;
        let xw = tape.matmul(x, w_in)?;
        let a = tape.add(xw, b_in)?;
        let a3 = tape.reshape(a, &[b, t, h])?;
        let zeros = || ArrayD::zeros(IxDyn(&[b, h]));
        let mut state = (tape.constant(zeros()), tape.constant(zeros()));
        let mut outs = Vec::with_capacity(t);
        for step in 0..t {
            let xt = tape.slice(a3, 1, step, 1)?;
            let xt = tape.reshape(xt, &[b, h])?;
            state = self.params.cell_lstm.step(tape, xt, state)?;
            outs.push(state.1);
        }
        let hs = tape.concat(&outs, 1)?;
        let hs = tape.reshape(hs, &[b * t, h])?;
        let w_out = tape.variable(&self.params.output_layer_weights)?;
        let b_out = tape.variable(&self.params.output_layer_biases)?;
        let hw = tape.matmul(hs, w_out)?;
        let pre = tape.add(hw, b_out)?;
        let pred = tape.relu(pre)?;
        let pred3 = tape.reshape(pred, &[b, t, o])?;
        let y = tape.constant(ys.mapv(T::from_f32).into_dyn());
        let diff = tape.sub(pred3, y)?;
        let sq = tape.square(diff)?;
        let mean = tape.mean(sq, &[0])?;
        tape.sum(mean, &[0])
    }
}
