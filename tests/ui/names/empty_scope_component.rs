use scope::model;

model! {
    pub struct Cell("cell") {
        w: [1],
    }

    pub struct Outer("outer") {
        #[model(scope = "c//d")]
        cell: model Cell,
    }
}

fn main() {}
