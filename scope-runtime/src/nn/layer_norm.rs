//! TF1's `tf.contrib.layers.layer_norm` over the last axis, as BERT uses it.

use crate::error::Error;
use crate::init::Initializer;
use crate::model::{ManifestEntry, Model, ModelScope, VarManifest};
use crate::registry::{Registry, VarSpec};
use crate::scope::VariableScope;
use crate::tape::{NodeId, Real, Tape};
use crate::train_error::TrainError;
use crate::variable::Variable;

/// `tf.contrib.layers.layer_norm(x, begin_norm_axis=-1, begin_params_axis=-1)` as a
/// [`Model`]: scope `LayerNorm` by default, holding `beta` (zeros) then `gamma` (ones), both
/// `[size]`.
///
/// `y = (x - mean) * rsqrt(var + 1e-12) * gamma + beta` over the last axis, with the biased
/// variance ([`Tape::layer_norm`]). `Args` is `(size,)`.
///
/// ```
/// use scope::nn::LayerNorm;
/// use scope::{Model, Registry};
///
/// let reg = Registry::new();
/// let ln = reg.variable_scope("embeddings").with(|_| LayerNorm::build(&reg, (4,)))?;
/// assert_eq!(ln.beta().name(), "embeddings/LayerNorm/beta");
/// assert_eq!(ln.gamma().name(), "embeddings/LayerNorm/gamma");
/// # Ok::<(), scope::Error>(())
/// ```
#[derive(Clone, Debug)]
pub struct LayerNorm {
    scope: VariableScope,
    beta: Variable,
    gamma: Variable,
}

impl LayerNorm {
    /// The `variance_epsilon` contrib's layer norm adds.
    pub const EPSILON: f64 = 1e-12;

    /// The offset `beta`, `[size]`.
    pub fn beta(&self) -> &Variable {
        &self.beta
    }

    /// The scale `gamma`, `[size]`.
    pub fn gamma(&self) -> &Variable {
        &self.gamma
    }

    /// Normalizes `x` `[.., size]` over its last axis on a tape.
    pub fn forward<T: Real>(&self, tape: &mut Tape<T>, x: NodeId) -> Result<NodeId, TrainError> {
        let gamma = tape.variable(&self.gamma)?;
        let beta = tape.variable(&self.beta)?;
        tape.layer_norm(x, gamma, beta, Self::EPSILON)
    }
}

impl Model for LayerNorm {
    /// `(size,)`: the extent of the normalized last axis.
    type Args = (usize,);
    const SCOPE: &'static str = "LayerNorm";
    const MANIFEST: &'static [ManifestEntry] = &[
        ManifestEntry::Variable(VarManifest {
            name: "beta",
            dtype: None,
            trainable: true,
            shape: Some("[size]"),
            initializer: Some("zeros"),
            partitioner: None,
            regularizer: None,
            constraint: None,
            collections: None,
        }),
        ManifestEntry::Variable(VarManifest {
            name: "gamma",
            dtype: None,
            trainable: true,
            shape: Some("[size]"),
            initializer: Some("ones"),
            partitioner: None,
            regularizer: None,
            constraint: None,
            collections: None,
        }),
    ];

    fn build_in(reg: &Registry, scope: &str, (size,): (usize,)) -> Result<LayerNorm, Error> {
        let entered = ModelScope::enter(reg, scope)?;
        let beta = reg.get_variable(
            "beta",
            VarSpec::new().shape([size]).initializer(Initializer::Zeros),
        )?;
        let gamma = reg.get_variable(
            "gamma",
            VarSpec::new().shape([size]).initializer(Initializer::Ones),
        )?;
        Ok(LayerNorm {
            scope: entered.scope().clone(),
            beta,
            gamma,
        })
    }

    fn scope(&self) -> &VariableScope {
        &self.scope
    }

    fn for_each_variable(&self, f: &mut dyn FnMut(&Variable)) {
        f(&self.beta);
        f(&self.gamma);
    }
}
