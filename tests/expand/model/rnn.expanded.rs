use scope::model;
/// The seed RNN: an input layer, a basic LSTM cell and an output layer.
pub struct Rnn {
    /// Variable `input_layer/weights`: shape `[input_size, hidden]`, `random_normal(0.0, 0.5)`.
    pub input_layer_weights: ::scope::__private::Variable,
    /// Variable `input_layer/biases`: shape `[hidden]`, `constant(0.1)`.
    pub input_layer_biases: ::scope::__private::Variable,
    /// Variable `cell/basic_lstm_cell/kernel`: shape `[hidden + hidden, 4 * hidden]`.
    pub cell_basic_lstm_cell_kernel: ::scope::__private::Variable,
    /// Variable `cell/basic_lstm_cell/bias`: shape `[4 * hidden]`, `zeros`.
    pub cell_basic_lstm_cell_bias: ::scope::__private::Variable,
    /// Variable `output_layer/weights`: shape `[hidden, classes]`, `random_normal(0.0, 0.5)`.
    pub output_layer_weights: ::scope::__private::Variable,
    /// Variable `output_layer/biases`: shape `[classes]`, `constant(0.1)`.
    pub output_layer_biases: ::scope::__private::Variable,
    /// The variable scope the model was built in.
    __scope_handle_put_variable_scope_above_derives: ::scope::__private::VariableScope,
}
impl Rnn {
    /// Builds the model in the variable scope `rnn`, opened inside the registry's current variable scope (whose reuse mode it inherits).
    pub fn new(
        reg: &::scope::__private::Registry,
        input_size: usize,
        hidden: usize,
        classes: usize,
    ) -> ::scope::__private::Result<Self> {
        <Self as ::scope::__private::Model>::build_in(
            reg,
            "rnn",
            (input_size, hidden, classes),
        )
    }
}
#[automatically_derived]
impl ::scope::__private::Model for Rnn {
    type Args = (usize, usize, usize);
    const SCOPE: &'static str = "rnn";
    const MANIFEST: &'static [::scope::__private::ManifestEntry] = &[
        ::scope::__private::ManifestEntry::Scope {
            name: "input_layer",
            entries: &[
                ::scope::__private::ManifestEntry::Variable(::scope::__private::VarManifest {
                    name: "weights",
                    dtype: ::core::option::Option::None,
                    trainable: true,
                    shape: ::core::option::Option::Some("[input_size, hidden]"),
                    initializer: ::core::option::Option::Some("random_normal(0.0, 0.5)"),
                    partitioner: ::core::option::Option::None,
                    regularizer: ::core::option::Option::None,
                    constraint: ::core::option::Option::None,
                    collections: ::core::option::Option::None,
                }),
                ::scope::__private::ManifestEntry::Variable(::scope::__private::VarManifest {
                    name: "biases",
                    dtype: ::core::option::Option::None,
                    trainable: true,
                    shape: ::core::option::Option::Some("[hidden]"),
                    initializer: ::core::option::Option::Some("constant(0.1)"),
                    partitioner: ::core::option::Option::None,
                    regularizer: ::core::option::Option::None,
                    constraint: ::core::option::Option::None,
                    collections: ::core::option::Option::None,
                }),
            ],
        },
        ::scope::__private::ManifestEntry::Scope {
            name: "cell",
            entries: &[
                ::scope::__private::ManifestEntry::Scope {
                    name: "basic_lstm_cell",
                    entries: &[
                        ::scope::__private::ManifestEntry::Variable(::scope::__private::VarManifest {
                            name: "kernel",
                            dtype: ::core::option::Option::None,
                            trainable: true,
                            shape: ::core::option::Option::Some(
                                "[hidden + hidden, 4 * hidden]",
                            ),
                            initializer: ::core::option::Option::None,
                            partitioner: ::core::option::Option::None,
                            regularizer: ::core::option::Option::None,
                            constraint: ::core::option::Option::None,
                            collections: ::core::option::Option::None,
                        }),
                        ::scope::__private::ManifestEntry::Variable(::scope::__private::VarManifest {
                            name: "bias",
                            dtype: ::core::option::Option::None,
                            trainable: true,
                            shape: ::core::option::Option::Some("[4 * hidden]"),
                            initializer: ::core::option::Option::Some("zeros"),
                            partitioner: ::core::option::Option::None,
                            regularizer: ::core::option::Option::None,
                            constraint: ::core::option::Option::None,
                            collections: ::core::option::Option::None,
                        }),
                    ],
                },
            ],
        },
        ::scope::__private::ManifestEntry::Scope {
            name: "output_layer",
            entries: &[
                ::scope::__private::ManifestEntry::Variable(::scope::__private::VarManifest {
                    name: "weights",
                    dtype: ::core::option::Option::None,
                    trainable: true,
                    shape: ::core::option::Option::Some("[hidden, classes]"),
                    initializer: ::core::option::Option::Some("random_normal(0.0, 0.5)"),
                    partitioner: ::core::option::Option::None,
                    regularizer: ::core::option::Option::None,
                    constraint: ::core::option::Option::None,
                    collections: ::core::option::Option::None,
                }),
                ::scope::__private::ManifestEntry::Variable(::scope::__private::VarManifest {
                    name: "biases",
                    dtype: ::core::option::Option::None,
                    trainable: true,
                    shape: ::core::option::Option::Some("[classes]"),
                    initializer: ::core::option::Option::Some("constant(0.1)"),
                    partitioner: ::core::option::Option::None,
                    regularizer: ::core::option::Option::None,
                    constraint: ::core::option::Option::None,
                    collections: ::core::option::Option::None,
                }),
            ],
        },
    ];
    fn build_in(
        __scope_reg: &::scope::__private::Registry,
        __scope_name: &str,
        (input_size, hidden, classes): Self::Args,
    ) -> ::scope::__private::Result<Self> {
        ::scope::__private::atomic_build(
            __scope_reg,
            || {
                let __scope_guard = ::scope::__private::ModelScope::enter(
                    __scope_reg,
                    __scope_name,
                )?;
                let __scope_sub_1 = __scope_reg.variable_scope("input_layer").enter()?;
                let __scope_field_input_layer_weights = __scope_reg
                    .get_variable(
                        "weights",
                        ::scope::__private::VarSpec::new()
                            .shape([input_size, hidden])
                            .initializer(
                                ::scope::__private::Initializer::random_normal(0.0, 0.5),
                            ),
                    )?;
                let __scope_field_input_layer_biases = __scope_reg
                    .get_variable(
                        "biases",
                        ::scope::__private::VarSpec::new()
                            .shape([hidden])
                            .initializer(::scope::__private::Initializer::Constant(0.1)),
                    )?;
                __scope_sub_1.exit();
                let __scope_sub_1 = __scope_reg.variable_scope("cell").enter()?;
                let __scope_sub_2 = __scope_reg
                    .variable_scope("basic_lstm_cell")
                    .enter()?;
                let __scope_field_cell_basic_lstm_cell_kernel = __scope_reg
                    .get_variable(
                        "kernel",
                        ::scope::__private::VarSpec::new()
                            .shape([hidden + hidden, 4 * hidden]),
                    )?;
                let __scope_field_cell_basic_lstm_cell_bias = __scope_reg
                    .get_variable(
                        "bias",
                        ::scope::__private::VarSpec::new()
                            .shape([4 * hidden])
                            .initializer(::scope::__private::Initializer::Zeros),
                    )?;
                __scope_sub_2.exit();
                __scope_sub_1.exit();
                let __scope_sub_1 = __scope_reg.variable_scope("output_layer").enter()?;
                let __scope_field_output_layer_weights = __scope_reg
                    .get_variable(
                        "weights",
                        ::scope::__private::VarSpec::new()
                            .shape([hidden, classes])
                            .initializer(
                                ::scope::__private::Initializer::random_normal(0.0, 0.5),
                            ),
                    )?;
                let __scope_field_output_layer_biases = __scope_reg
                    .get_variable(
                        "biases",
                        ::scope::__private::VarSpec::new()
                            .shape([classes])
                            .initializer(::scope::__private::Initializer::Constant(0.1)),
                    )?;
                __scope_sub_1.exit();
                ::core::result::Result::Ok(Self {
                    input_layer_weights: __scope_field_input_layer_weights,
                    input_layer_biases: __scope_field_input_layer_biases,
                    cell_basic_lstm_cell_kernel: __scope_field_cell_basic_lstm_cell_kernel,
                    cell_basic_lstm_cell_bias: __scope_field_cell_basic_lstm_cell_bias,
                    output_layer_weights: __scope_field_output_layer_weights,
                    output_layer_biases: __scope_field_output_layer_biases,
                    __scope_handle_put_variable_scope_above_derives: ::core::clone::Clone::clone(
                        __scope_guard.scope(),
                    ),
                })
            },
        )
    }
    fn scope(&self) -> &::scope::__private::VariableScope {
        &self.__scope_handle_put_variable_scope_above_derives
    }
    fn for_each_variable(
        &self,
        __scope_f: &mut dyn ::core::ops::FnMut(&::scope::__private::Variable),
    ) {
        __scope_f(&self.input_layer_weights);
        __scope_f(&self.input_layer_biases);
        __scope_f(&self.cell_basic_lstm_cell_kernel);
        __scope_f(&self.cell_basic_lstm_cell_bias);
        __scope_f(&self.output_layer_weights);
        __scope_f(&self.output_layer_biases);
    }
}
#[automatically_derived]
impl ::core::fmt::Debug for Rnn {
    fn fmt(&self, f: &mut ::core::fmt::Formatter<'_>) -> ::core::fmt::Result {
        f.debug_struct("Rnn")
            .field(
                "__scope",
                &self.__scope_handle_put_variable_scope_above_derives.name(),
            )
            .field("input_layer_weights", &self.input_layer_weights)
            .field("input_layer_biases", &self.input_layer_biases)
            .field("cell_basic_lstm_cell_kernel", &self.cell_basic_lstm_cell_kernel)
            .field("cell_basic_lstm_cell_bias", &self.cell_basic_lstm_cell_bias)
            .field("output_layer_weights", &self.output_layer_weights)
            .field("output_layer_biases", &self.output_layer_biases)
            .finish()
    }
}
fn main() {}
