//! TF's `tf.layers.dense`: a `kernel` `[inputs, units]` and a `bias` `[units]` in scope
//! `dense` (or the name given), `y = activation(x · kernel + bias)`.

use crate::error::Error;
use crate::init::Initializer;
use crate::model::{ManifestEntry, Model, ModelScope, VarManifest};
use crate::registry::{Registry, VarSpec};
use crate::scope::VariableScope;
use crate::tape::{NodeId, Real, Tape};
use crate::train_error::TrainError;
use crate::variable::Variable;

/// The activations BERT's `get_activation` knows (its `hidden_act` strings).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum Activation {
    /// No activation (`"linear"`, or `activation=None`).
    #[default]
    Linear,
    /// `max(x, 0)` (`"relu"`).
    Relu,
    /// BERT's gelu, the tanh form (`"gelu"`).
    Gelu,
    /// `tanh(x)` (`"tanh"`).
    Tanh,
}

impl Activation {
    /// BERT's name for it (`hidden_act` in `bert_config.json`): `linear`, `relu`, `gelu`,
    /// `tanh`; `None` for any other name.
    pub fn from_name(name: &str) -> Option<Activation> {
        match name.to_ascii_lowercase().as_str() {
            "linear" | "" => Some(Activation::Linear),
            "relu" => Some(Activation::Relu),
            "gelu" => Some(Activation::Gelu),
            "tanh" => Some(Activation::Tanh),
            _ => None,
        }
    }

    /// `activation(x)` on a tape.
    pub fn apply<T: Real>(self, tape: &mut Tape<T>, x: NodeId) -> Result<NodeId, TrainError> {
        match self {
            Activation::Linear => Ok(x),
            Activation::Relu => tape.relu(x),
            Activation::Gelu => tape.gelu(x),
            Activation::Tanh => tape.tanh(x),
        }
    }
}

/// `tf.layers.dense(inputs, units, kernel_initializer=..)` in TF1, as a [`Model`].
///
/// Its scope is the layer's name: `dense` by default ([`Model::SCOPE`]), or the name passed
/// to [`Model::build_in`] (`tf.layers.dense(.., name="query")`). In it, in this order:
///
/// * `kernel`, `[inputs, units]`, from the given initializer (TF's default is
///   [`Initializer::GlorotUniform`]);
/// * `bias`, `[units]`, zeros.
///
/// `Args` is `(inputs, units, kernel_initializer)`.
///
/// ```
/// use scope::nn::Dense;
/// use scope::{Initializer, Model, Registry};
///
/// let reg = Registry::with_seed(1);
/// let query = reg.variable_scope("self").with(|_| {
///     Dense::build_in(&reg, "query", (4, 8, Initializer::truncated_normal(0.0, 0.02)))
/// })?;
/// assert_eq!(query.kernel().name(), "self/query/kernel");
/// assert_eq!(query.kernel().shape(), &[4, 8]);
/// assert_eq!(query.bias().name(), "self/query/bias");
/// # Ok::<(), scope::Error>(())
/// ```
#[derive(Clone, Debug)]
pub struct Dense {
    scope: VariableScope,
    kernel: Variable,
    bias: Variable,
}

impl Dense {
    /// The kernel, `[inputs, units]`.
    pub fn kernel(&self) -> &Variable {
        &self.kernel
    }

    /// The bias, `[units]`.
    pub fn bias(&self) -> &Variable {
        &self.bias
    }

    /// The width of the input.
    pub fn inputs(&self) -> usize {
        self.kernel.shape()[0]
    }

    /// The number of units (the width of the output).
    pub fn units(&self) -> usize {
        self.kernel.shape()[1]
    }

    /// `x · kernel + bias` on a tape, for `x` `[rows, inputs]`.
    pub fn forward<T: Real>(&self, tape: &mut Tape<T>, x: NodeId) -> Result<NodeId, TrainError> {
        self.forward_with(tape, x, Activation::Linear)
    }

    /// `activation(x · kernel + bias)` on a tape, for `x` `[rows, inputs]`; gelu is fused
    /// with the bias.
    pub fn forward_with<T: Real>(
        &self,
        tape: &mut Tape<T>,
        x: NodeId,
        activation: Activation,
    ) -> Result<NodeId, TrainError> {
        let kernel = tape.variable(&self.kernel)?;
        let bias = tape.variable(&self.bias)?;
        if activation == Activation::Gelu {
            let xw = tape.matmul(x, kernel)?;
            return tape.bias_gelu(xw, bias);
        }
        let y = tape.linear(x, kernel, bias)?;
        activation.apply(tape, y)
    }
}

impl Model for Dense {
    /// `(inputs, units, kernel_initializer)`.
    type Args = (usize, usize, Initializer);
    const SCOPE: &'static str = "dense";
    const MANIFEST: &'static [ManifestEntry] = &[
        ManifestEntry::Variable(VarManifest {
            name: "kernel",
            dtype: None,
            trainable: true,
            shape: Some("[inputs, units]"),
            initializer: Some("kernel_initializer"),
            partitioner: None,
            regularizer: None,
            constraint: None,
            collections: None,
        }),
        ManifestEntry::Variable(VarManifest {
            name: "bias",
            dtype: None,
            trainable: true,
            shape: Some("[units]"),
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
        (inputs, units, kernel_initializer): (usize, usize, Initializer),
    ) -> Result<Dense, Error> {
        let entered = ModelScope::enter(reg, scope)?;
        let kernel = reg.get_variable(
            "kernel",
            VarSpec::new()
                .shape([inputs, units])
                .initializer(kernel_initializer),
        )?;
        let bias = reg.get_variable(
            "bias",
            VarSpec::new()
                .shape([units])
                .initializer(Initializer::Zeros),
        )?;
        Ok(Dense {
            scope: entered.scope().clone(),
            kernel,
            bias,
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
