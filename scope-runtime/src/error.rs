//! Typed errors. Messages carry TensorFlow's own wording (so a TF user recognises them) and
//! then say how to fix the call in this crate.

use crate::dtype::DType;
use crate::tensor::{format_shape, Shape};

/// A `Result` whose error is [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Which regex a scope or op name was checked against (TF's `ops.py`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NameContext {
    /// Opened at the root name scope: `^[A-Za-z0-9.][A-Za-z0-9_.\\/>-]*$`.
    Root,
    /// Opened inside another name scope: `^[A-Za-z0-9_.\\/>-]*$`.
    Nested,
    /// A graph node (op) name, checked whole: the root regex, with no trailing newline.
    Node,
}

/// Everything the registry, scopes and variables can refuse.
///
/// A call that returns an error has changed nothing in the registry: no variable, name or
/// scope counter is consumed (the one exception, [`Error::DuplicateName`], is TF's).
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// `get_variable` would create a variable whose full name is already taken, and the
    /// current scope does not allow reuse.
    #[error(
        "Variable {name} already exists, disallowed. Did you mean to set reuse=True or \
         reuse=tf.AUTO_REUSE in VarScope? (in scope: call `scope.reuse_variables()`, or open \
         the variable scope with `.reuse(Reuse::Yes)` or `.reuse(Reuse::Auto)`; variable scope \
         `{scope}`)"
    )]
    AlreadyExists {
        /// Full name (store key) of the existing variable.
        name: String,
        /// The variable scope the call was made in.
        scope: String,
    },

    /// `get_partitioned_variable` without reuse, for a partitioned variable that exists.
    #[error(
        "Partitioned variable with name {name} already exists. Did you mean to set reuse=True \
         or reuse=tf.AUTO_REUSE in VarScope? (in scope: open the variable scope with \
         `.reuse(Reuse::Yes)` or `.reuse(Reuse::Auto)`; variable scope `{scope}`)"
    )]
    PartitionedExists {
        /// Full name of the partitioned variable.
        name: String,
        /// The variable scope the call was made in.
        scope: String,
    },

    /// `get_partitioned_variable` in a reusing scope, for a partitioned variable that does not
    /// exist.
    #[error(
        "PartitionedVariable {name} does not exist, or was not created with tf.get_variable(). \
         Did you mean to set reuse=False or reuse=tf.AUTO_REUSE in VarScope? (variable scope \
         `{scope}`)"
    )]
    PartitionedNotFound {
        /// Full name asked for.
        name: String,
        /// The variable scope the call was made in.
        scope: String,
    },

    /// Reusing a partitioned variable with another shape, dtype or partitioning.
    #[error(
        "Trying to reuse partitioned variable {name}, but specified {what} {specified} and \
         found {what} {found}. (pass what it was created with, or nothing, when reusing)"
    )]
    PartitionMismatch {
        /// Full name of the partitioned variable.
        name: String,
        /// `shape`, `dtype` or `partitions`.
        what: &'static str,
        /// What the call gave, as TF prints it.
        specified: String,
        /// What the stored variable has.
        found: String,
    },

    /// A partitioner for a name that an unpartitioned variable already has.
    #[error(
        "A partitioner was provided, but an unpartitioned version of the variable was found: \
         {name}.  Perhaps a variable of the same name was already created without partitioning? \
         (use `get_variable` for it, or another name)"
    )]
    UnpartitionedExists {
        /// Full name of the existing variable.
        name: String,
    },

    /// `get_variable` (no partitioner) for a name that a partitioned variable already has.
    #[error(
        "No partitioner was provided, but a partitioned version of the variable was found: \
         {name}/part_0.  Perhaps a variable of the same name was already created with \
         partitioning? (use `get_partitioned_variable` for it)"
    )]
    PartitionedFound {
        /// Full name asked for.
        name: String,
    },

    /// A custom getter returned a variable whose shape is not the one asked for (TF returns it
    /// anyway; this crate refuses, since every use of it would then fail far from the cause).
    #[error(
        "custom getter for variable {name} returned variable {returned} of shape {}, but shape \
         {} was asked for (return a variable of the requested shape from the getter)",
        format_shape(found),
        format_shape(requested)
    )]
    GetterShapeMismatch {
        /// Full name asked for.
        name: String,
        /// The variable the getter returned.
        returned: String,
        /// Shape asked for.
        requested: Shape,
        /// Shape of the returned variable.
        found: Shape,
    },

    /// A regularizer was given for a variable that is not floating point.
    #[error(
        "Expected {dtype}, but got {scale} of type 'float'. (regularizer {regularizer} cannot \
         be applied to variable {name} of dtype {dtype}: regularizers take float16, float32 or \
         float64 variables; drop `regularizer` for this variable, or give it a float dtype)"
    )]
    RegularizerDtype {
        /// Full name of the variable.
        name: String,
        /// Its dtype.
        dtype: DType,
        /// The scale TF fails to convert to `dtype`, as Python prints it.
        scale: String,
        /// The regularizer (`l2_regularizer(0.1)`).
        regularizer: String,
    },

    /// A regularizer's scale is refused (as `tf.contrib.layers` refuses it).
    #[error("{reason} (give a scale that is finite and not negative; 0 disables the regularizer)")]
    RegularizerScale {
        /// TF's message (`Setting a scale less than 0 on a regularizer: -1`).
        reason: String,
    },

    /// A template created trainable variables on a call after its first.
    #[error(
        "Trainable variable created when calling a template after the first time, perhaps you \
         used tf.Variable when you meant tf.get_variable: {names:?} (template `{template}`: \
         create every variable on the first call, with `get_variable`)"
    )]
    TemplateCreated {
        /// The template's name.
        template: String,
        /// The variables created.
        names: Vec<String>,
    },

    /// [`Variable::cast_read`](crate::Variable::cast_read) between dtypes that are not both
    /// floating point.
    #[error(
        "variable {name} of dtype {from} cannot be read as {to}: cast reads are between float \
         dtypes (float16, float32, float64)"
    )]
    CastRead {
        /// The variable.
        name: String,
        /// Its dtype.
        from: DType,
        /// The dtype asked for.
        to: DType,
    },

    /// A collection's scope filter is not a valid regular expression.
    #[error("collection filter {pattern:?} is not a valid regular expression: {reason}")]
    InvalidFilter {
        /// The filter.
        pattern: String,
        /// Why it does not parse.
        reason: String,
    },

    /// `get_variable` where a partitioner applies (given, or the scope's default): TF returns
    /// a `PartitionedVariable` there, which this typed API gets from
    /// `get_partitioned_variable`.
    #[error(
        "variable {name} would be partitioned by {partitioner}, set on the call or its variable \
         scope: get it with `get_partitioned_variable` (TF returns a PartitionedVariable here)"
    )]
    PartitionerNeedsPartitionedGetter {
        /// Full name asked for.
        name: String,
        /// The partitioner that applies.
        partitioner: String,
    },

    /// A partitioner that cannot split this variable, or parts already found that another
    /// partitioning made.
    #[error("cannot partition {name}: {reason}")]
    Partition {
        /// Full name of the variable.
        name: String,
        /// TF's message for what is wrong.
        reason: String,
    },

    /// `get_variable` in a reusing scope asked for a variable that does not exist.
    #[error(
        "Variable {name} does not exist, or was not created with tf.get_variable(). Did you mean \
         to set reuse=tf.AUTO_REUSE in VarScope? (in scope: create it first with reuse off, or \
         open the variable scope with `.reuse(Reuse::Auto)`; variable scope `{scope}`)"
    )]
    NotFound {
        /// Full name that was looked up.
        name: String,
        /// The variable scope the call was made in.
        scope: String,
    },

    /// Reuse asked for a shape that the existing variable does not have.
    #[error(
        "Trying to share variable {name}, but specified shape {} and found shape {}. \
         (in scope: pass the existing shape, or no shape, when reusing)",
        format_shape(specified),
        format_shape(found)
    )]
    ShapeMismatch {
        /// Full name of the variable.
        name: String,
        /// Shape given to the call.
        specified: Shape,
        /// Shape of the stored variable.
        found: Shape,
    },

    /// Reuse asked for a dtype that the existing variable does not have.
    #[error(
        "Trying to share variable {name}, but specified dtype {specified} and found dtype \
         {found}. (in scope: a reuse without `.dtype(..)` means float32 unless the scope sets a \
         dtype; pass `.dtype(DType::{found:?})`)"
    )]
    DtypeMismatch {
        /// Full name of the variable.
        name: String,
        /// Dtype given to (or defaulted by) the call.
        specified: DType,
        /// Dtype of the stored variable.
        found: DType,
    },

    /// A variable would be created with neither a shape nor a value initializer.
    #[error(
        "Variable {name} did not get an initializer, so its `shape` argument must be specified. \
         (in scope: add `.shape([..])` or a `Initializer::Value(..)`)"
    )]
    MissingShape {
        /// Full name of the variable.
        name: String,
    },

    /// A name failed TF's scope-name regex (or, for an op, its node-name regex).
    #[error("{}", invalid_name_message(name, *context))]
    InvalidName {
        /// The offending name (for `get_variable`, the full name; for an op, the node name).
        name: String,
        /// Which rule applied.
        context: NameContext,
    },

    /// A value initializer was given together with a shape.
    #[error(
        "If initializer is a constant, do not specify shape. (variable {name}: the value's own \
         shape is used; drop `.shape(..)`)"
    )]
    ConstantInitializerWithShape {
        /// Full name of the variable.
        name: String,
    },

    /// A value initializer's dtype differs from the explicit dtype.
    #[error(
        "Initializer type '<dtype: '{init}'>' and explicit dtype '<dtype: '{explicit}'>' don't \
         match. (variable {name}: build the value with the dtype you ask for)"
    )]
    InitializerDtypeMismatch {
        /// Full name of the variable.
        name: String,
        /// Dtype of the value.
        init: DType,
        /// Dtype asked for.
        explicit: DType,
    },

    /// `reuse` was set on a variable scope that has only a default name.
    #[error(
        "reuse=True cannot be used without a name_or_scope (a `default_name` scope is always \
         new: give the scope a name, or drop `.reuse(..)`)"
    )]
    ReuseWithoutName,

    /// A variable scope was opened with neither a name nor a default name.
    #[error(
        "If default_name is None then name_or_scope is required (give the variable scope a name \
         or a `.default_name(..)`)"
    )]
    MissingScopeName,

    /// An op name that is already an op's: an absolute name (ending in `/`) of an existing
    /// op, or a uniquified name that an absolutely named op already took. In the second case,
    /// as in TF, the name is consumed and a retry gets the next one: the one failed call that
    /// changes the registry.
    #[error(
        "Duplicate node name in graph: '{name}' (absolute names ending in '/' are not \
         uniquified; pick a fresh name)"
    )]
    DuplicateName {
        /// The op name.
        name: String,
    },

    /// A dtype name that TensorFlow does not know.
    #[error(
        "unknown dtype '{name}': expected one of float16, float32, float64, int32, int64, bool"
    )]
    UnknownDtype {
        /// The unknown name.
        name: String,
    },

    /// Data whose length does not fit the shape.
    #[error("a value of {len} elements cannot have shape {}", format_shape(shape))]
    ValueShape {
        /// The shape asked for.
        shape: Shape,
        /// The number of elements given.
        len: usize,
    },

    /// A shape whose element count overflows `usize`.
    #[error("shape {} has more elements than fit in memory", format_shape(shape))]
    ShapeOverflow {
        /// The shape.
        shape: Shape,
    },

    /// A variable larger than the registry's element limit.
    #[error(
        "variable {name} of shape {} has {numel} elements, over this registry's limit of \
         {limit} (raise it with `Registry::builder().max_elements(..)`)",
        format_shape(shape)
    )]
    TooLarge {
        /// Full name of the variable.
        name: String,
        /// The shape.
        shape: Shape,
        /// Its element count.
        numel: usize,
        /// The configured limit.
        limit: usize,
    },

    /// A name longer than the registry accepts.
    #[error(
        "name of {len} bytes is longer than this registry's limit of {limit} bytes (it starts \
         with '{prefix}')"
    )]
    NameTooLong {
        /// First characters of the name.
        prefix: String,
        /// Its length in bytes.
        len: usize,
        /// The limit.
        limit: usize,
    },

    /// Scopes nested deeper than the registry accepts.
    #[error("scopes nested {depth} deep, over this registry's limit of {limit}")]
    ScopeTooDeep {
        /// The depth that was refused.
        depth: usize,
        /// The limit.
        limit: usize,
    },

    /// A callable initializer (one that needs a shape) with no shape to fill.
    #[error(
        "The initializer passed is not valid. It should be a callable with no arguments and the \
         shape should not be provided or an instance of `tf.keras.initializers.*' and `shape` \
         should be fully defined. (variable {name}: {initializer} needs `.shape([..])`)"
    )]
    InitializerNeedsShape {
        /// Full name of the variable.
        name: String,
        /// The initializer, described.
        initializer: String,
    },

    /// An initializer that cannot make a value (bad parameters, or a callable initializer
    /// with no shape to fill).
    #[error("The initializer passed is not valid: {reason}")]
    InvalidInitializer {
        /// What is wrong.
        reason: String,
    },

    /// A constant whose Python-side type TF would refuse for the variable's dtype (a float
    /// for an integer variable, a number for a bool one), or a random initializer for a
    /// non-float variable.
    #[error(
        "Expected {dtype}, but got {value} of type '{kind}'. (variable {name}: use an \
         initializer of the variable's type, e.g. `Initializer::ConstantInt(..)` for integers)"
    )]
    InitializerType {
        /// Full name of the variable.
        name: String,
        /// The variable's dtype.
        dtype: DType,
        /// The offending value, as TF prints it.
        value: String,
        /// Its Python type name (`float`, `int`).
        kind: &'static str,
    },

    /// A write whose dtype or shape differs from the variable's.
    #[error(
        "cannot assign a {got_dtype} value of shape {} to variable {name} ({dtype}, shape {})",
        format_shape(got_shape),
        format_shape(shape)
    )]
    AssignMismatch {
        /// Full name of the variable.
        name: String,
        /// The variable's dtype.
        dtype: DType,
        /// The variable's shape.
        shape: Shape,
        /// The value's dtype.
        got_dtype: DType,
        /// The value's shape.
        got_shape: Shape,
    },

    /// A variable's shape whose element count overflows `usize`, or whose elements cannot
    /// be allocated.
    #[error(
        "variable {name}: shape {} has more elements than fit in memory",
        format_shape(shape)
    )]
    VariableShapeOverflow {
        /// Full name of the variable.
        name: String,
        /// The shape.
        shape: Shape,
    },

    /// A tied field (`#[var(tied = ..)]`) was given a variable of another registry: the
    /// model would read a table that training in this registry never updates.
    #[error(
        "tied variable `{field}` in variable scope `{scope}`: {name} belongs to another \
         registry (build the model that owns {name} and this one with the same `Registry`)"
    )]
    TiedOtherRegistry {
        /// The field that refers to the variable.
        field: String,
        /// The variable scope the tying model was built in.
        scope: String,
        /// Full name of the variable given.
        name: String,
    },

    /// A tied field was given a variable whose shape is not the declared one.
    #[error(
        "tied variable `{field}` in variable scope `{scope}`: expected shape {}, but {name} has \
         shape {} (pass the variable the declaration means, or fix the declared shape)",
        format_shape(expected),
        format_shape(found)
    )]
    TiedShapeMismatch {
        /// The field that refers to the variable.
        field: String,
        /// The variable scope the tying model was built in.
        scope: String,
        /// Full name of the variable given.
        name: String,
        /// The shape the declaration gives.
        expected: Shape,
        /// The variable's shape.
        found: Shape,
    },

    /// A tied field was given a variable whose dtype is not the declared one.
    #[error(
        "tied variable `{field}` in variable scope `{scope}`: expected dtype {expected}, but \
         {name} has dtype {found} (pass the variable the declaration means, or declare \
         `dtype = {found}`)"
    )]
    TiedDtypeMismatch {
        /// The field that refers to the variable.
        field: String,
        /// The variable scope the tying model was built in.
        scope: String,
        /// Full name of the variable given.
        name: String,
        /// The dtype the declaration gives.
        expected: DType,
        /// The variable's dtype.
        found: DType,
    },

    /// A `tf.Variable` initial value that does not fit the variable's integer dtype (TF
    /// refuses it rather than wrap or saturate).
    #[error(
        "Python integer {value} out of bounds for {dtype}. (variable {name}: pass a value that \
         fits, or a wider dtype such as `DType::I64`)"
    )]
    ValueOutOfRange {
        /// Full name of the variable.
        name: String,
        /// The variable's dtype.
        dtype: DType,
        /// The first offending value.
        value: String,
    },
}

fn invalid_name_message(name: &str, context: NameContext) -> String {
    use crate::names::{NESTED_PATTERN as NESTED, ROOT_PATTERN as ROOT};
    match context {
        NameContext::Root => format!(
            "'{name}' is not a valid root scope name. A root scope name has to match the \
             following pattern: {ROOT}"
        ),
        NameContext::Nested => format!(
            "'{name}' is not a valid scope name. A scope name has to match the following \
             pattern: {NESTED}"
        ),
        NameContext::Node => format!(
            "`{name}` is not a valid node name. Accepted names conform to Regex \
             /re.compile('{ROOT}')/"
        ),
    }
}
