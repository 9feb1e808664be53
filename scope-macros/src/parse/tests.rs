use super::*;
use quote::quote;

fn errors(cx: Ctxt) -> usize {
    cx.check().map_or_else(|e| e.into_iter().count(), |()| 0)
}

#[test]
fn splits_at_top_level_commas_only() {
    let chunks = split_commas(quote!(shape = [a, b], init = f(1, 2),));
    assert_eq!(chunks.len(), 2);
}

#[test]
fn parses_shapes_and_rejects_bad_dimensions() {
    let cx = Ctxt::new();
    let shape = parse_shape(&quote!([in_size, 4 * units]), &cx).unwrap();
    assert_eq!(shape.dims.len(), 2);
    assert!(parse_shape(&quote!([1.5, -2, 3u8, "x"]), &cx).is_none());
    assert!(parse_shape(&quote!(in_size), &cx).is_none());
    assert_eq!(errors(cx), 5);
}

#[test]
fn parses_initializers_and_counts_arguments() {
    let cx = Ctxt::new();
    let init = parse_init(&quote!(random_normal(0, 0.5)), &cx).unwrap();
    assert_eq!(init.kind, InitKind::RandomNormal);
    assert_eq!(init.args[0].to_string(), "0.0");
    assert!(parse_init(&quote!(zeros), &cx).is_some());
    assert!(parse_init(&quote!(value(ndarray::arr1(&[1.0]))), &cx).is_some());
    assert!(parse_init(&quote!(normal(0.0, 1.0)), &cx).is_none());
    assert!(parse_init(&quote!(constant(1.0, 2.0)), &cx).is_none());
    assert!(parse_init(&quote!(constant("a")), &cx).is_none());
    assert!(parse_init(&quote!(constant(true)), &cx).is_some());
    assert_eq!(
        parse_init(&quote!(constant(1)), &cx).unwrap().args[0].to_string(),
        "1"
    );
    assert_eq!(errors(cx), 3);
}

#[test]
fn describes_literals_by_their_kind() {
    let lit = |t: TokenStream| describe(&syn::parse2::<Lit>(t).unwrap());
    assert_eq!(lit(quote!(c"ab")), "a C string literal");
    assert_eq!(lit(quote!(b"ab")), "a byte string literal");
}

#[test]
fn a_missing_comma_between_keys_is_one_error() {
    let cx = Ctxt::new();
    let mut decl = crate::parse::attr::empty_var(syn::parse_quote!(w));
    apply_var_keys(
        quote!(shape = [1] init = zeros dtype = f64, when = a == b),
        &mut decl,
        &cx,
    );
    assert!(decl.shape.is_some() && decl.init.is_some() && decl.dtype.is_some());
    assert_eq!(decl.when.as_ref().unwrap().expr.to_string(), "a == b");
    let messages: Vec<String> = cx
        .check()
        .unwrap_err()
        .into_iter()
        .map(|e| e.to_string())
        .collect();
    assert_eq!(messages, ["expected `,` before the next key"; 2]);
    let cx = Ctxt::new();
    let mut field = ModelField::new(
        syn::parse_quote!(c),
        syn::parse_quote!(c),
        syn::parse_quote!(Cell),
    );
    apply_model_keys(quote!(args(1, 2) repeat = n), &mut field, &mut None, &cx);
    assert!(field.repeat.is_some() && field.args.len() == 2);
    assert_eq!(errors(cx), 1);
}

#[test]
fn var_keys_report_every_mistake() {
    let cx = Ctxt::new();
    let mut decl = crate::parse::attr::empty_var(syn::parse_quote!(w));
    apply_var_keys(
        quote!(
            shap = [1],
            dtype = "f32",
            trainable = 1,
            name = 5,
            shape = [2],
            shape = [3]
        ),
        &mut decl,
        &cx,
    );
    // shap, dtype, trainable, name, duplicate shape
    assert_eq!(errors(cx), 5);
    assert!(decl.shape.is_some());
}

#[test]
fn model_keys() {
    let cx = Ctxt::new();
    let mut field = ModelField::new(
        syn::parse_quote!(cell),
        syn::parse_quote!(cell),
        syn::parse_quote!(Cell),
    );
    let mut seen = None;
    apply_model_keys(
        quote!(scope = "lstm", args(a, b + 1), arg = 1),
        &mut field,
        &mut seen,
        &cx,
    );
    assert_eq!(field.scope.as_ref().unwrap().value(), "lstm");
    assert_eq!(field.args.len(), 2);
    assert_eq!(errors(cx), 1);
}

#[test]
fn new_model_keys() {
    let cx = Ctxt::new();
    let mut field = ModelField::new(
        syn::parse_quote!(layer),
        syn::parse_quote!(layer),
        syn::parse_quote!(Layer),
    );
    apply_model_keys(
        quote!(
            repeat = cfg.n,
            when = f(a, b),
            default_name = "dense",
            tied = t,
            name = "x"
        ),
        &mut field,
        &mut None,
        &cx,
    );
    assert_eq!(field.repeat.as_ref().unwrap().expr.to_string(), "cfg . n");
    assert_eq!(field.when.as_ref().unwrap().expr.to_string(), "f (a , b)");
    let base = field.default_name.as_ref().unwrap().base.as_ref().unwrap();
    assert_eq!(base.value(), "dense");
    // tied, name
    assert_eq!(errors(cx), 2);
}

#[test]
fn new_var_keys() {
    let cx = Ctxt::new();
    let mut decl = crate::parse::attr::empty_var(syn::parse_quote!(w));
    apply_var_keys(
        quote!(
            when = flag,
            tied = emb.table,
            repeat = 3,
            default_name,
            when
        ),
        &mut decl,
        &cx,
    );
    assert!(decl.when.is_some() && decl.tied.is_some());
    // repeat, default_name, the flag `when` (no value, and a second `when`)
    assert_eq!(errors(cx), 4);
}

#[test]
fn partitioners_by_name_or_expression() {
    use crate::ast::PartitionerKind;
    let cx = Ctxt::new();
    let mut decl = crate::parse::attr::empty_var(syn::parse_quote!(w));
    apply_var_keys(
        quote!(partitioner = variable_axis_size(1 << 20, 1)),
        &mut decl,
        &cx,
    );
    let p = decl.partitioner.as_ref().unwrap();
    let (kind, _, args) = p.known.as_ref().unwrap();
    assert_eq!((*kind, args.len()), (PartitionerKind::VariableAxisSize, 2));
    assert_eq!(p.literal_axis().unwrap().0, 1);
    for expr in [
        quote!(cfg.split),
        quote!(Partitioner::fixed_size(2, 0)),
        quote!(SPLIT),
    ] {
        let mut decl = crate::parse::attr::empty_var(syn::parse_quote!(w));
        apply_var_keys(quote!(partitioner = #expr), &mut decl, &cx);
        assert!(decl.partitioner.unwrap().known.is_none());
    }
    assert!(cx.check().is_ok());
    let cx = Ctxt::new();
    for bad in [
        quote!(fixed(2)),
        quote!(fixed_size),
        quote!(fixed_size(1, 2, 3)),
        quote!(min_max(-1)),
        quote!(fixed_size(2.0)),
        quote!("fixed_size(2)"),
    ] {
        let mut decl = crate::parse::attr::empty_var(syn::parse_quote!(w));
        apply_var_keys(quote!(partitioner = #bad), &mut decl, &cx);
        assert!(decl.partitioner.is_none(), "{bad}");
    }
    assert_eq!(errors(cx), 6);
    assert_eq!(
        PartitionerKind::MinMax.usage(),
        "min_max(max_partitions, axis = 0, min_slice_size = 262144)"
    );
}
