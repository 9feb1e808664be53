// `args = expr` passes the expression as the nested model's whole `Model::Args`.
scope::model! {
    pub struct Dense("dense", units: usize) {
        w: [units],
    }

    pub struct Outer("outer") {
        #[model(args = 3)]
        dense: model Dense,
    }
}

fn main() {}
