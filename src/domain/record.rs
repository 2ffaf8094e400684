//! Each derived record declared once (`record!`): its fields, in the order
//! the store keeps them as columns, each with what it holds. Whatever goes
//! over a record field by field — the store's rows and its column lists,
//! verify's digests, the compact instance table, the external sort's bytes,
//! `diff`, an instance's output — goes over this declaration, so a new field
//! is declared in one place (CONTRIBUTING.md "Adding a column to a derived table").
//!
//! Two conventions name a field's role, so that nothing else has to: a
//! field named `seq` or ending in `_seq` says when the row was written, not
//! what it holds (diff and output leave it out); a field ending in `_fen` is
//! an amount in fen (shown in CNY, without the suffix). The first field is
//! the record's key.

use super::types::format_fen;
use std::borrow::Cow;

/// What a field holds, as the store binds it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Shape {
    Text,
    OptionalText,
    Integer,
    OptionalInteger,
    Flag,
    /// One of a fixed set of texts (a `text_enum!`).
    Word,
    /// A list of texts (stored as one JSON array).
    List,
}

impl Shape {
    /// Held in a text column (else in an integer one; flags are 0/1).
    pub(crate) fn is_text(self) -> bool {
        matches!(
            self,
            Shape::Text | Shape::OptionalText | Shape::Word | Shape::List
        )
    }
}

/// One field's value, borrowed from its record.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Field<'a> {
    Text(&'a str),
    OptionalText(Option<&'a str>),
    Integer(i64),
    OptionalInteger(Option<i64>),
    Flag(bool),
    Word(&'static str),
    List(&'a [String]),
}

/// Why a field does not read back (a corrupt row, a damaged file).
pub(crate) type FieldResult<T> = std::result::Result<T, String>;

/// Where a record's fields are read from, one after the other, in order:
/// a stored row, the external sort's bytes, the compact instance table.
pub(crate) trait FieldRead {
    fn text(&mut self, name: &'static str) -> FieldResult<Cow<'_, str>>;
    fn optional_text(&mut self, name: &'static str) -> FieldResult<Option<Cow<'_, str>>>;
    fn integer(&mut self, name: &'static str) -> FieldResult<i64>;
    fn optional_integer(&mut self, name: &'static str) -> FieldResult<Option<i64>>;
    fn flag(&mut self, name: &'static str) -> FieldResult<bool>;
    fn list(&mut self, name: &'static str) -> FieldResult<Vec<String>>;
}

/// A type a record field may have.
pub(crate) trait FieldType: Sized {
    const SHAPE: Shape;
    fn field(&self) -> Field<'_>;
    fn read(read: &mut dyn FieldRead, name: &'static str) -> FieldResult<Self>;
    /// Reads into `self`, reusing its buffer where it has one.
    fn read_into(&mut self, read: &mut dyn FieldRead, name: &'static str) -> FieldResult<()> {
        *self = Self::read(read, name)?;
        Ok(())
    }
}

impl FieldType for String {
    const SHAPE: Shape = Shape::Text;
    fn field(&self) -> Field<'_> {
        Field::Text(self)
    }
    fn read(read: &mut dyn FieldRead, name: &'static str) -> FieldResult<Self> {
        Ok(read.text(name)?.into_owned())
    }
    fn read_into(&mut self, read: &mut dyn FieldRead, name: &'static str) -> FieldResult<()> {
        let text = read.text(name)?;
        self.clear();
        self.push_str(&text);
        Ok(())
    }
}

impl FieldType for Option<String> {
    const SHAPE: Shape = Shape::OptionalText;
    fn field(&self) -> Field<'_> {
        Field::OptionalText(self.as_deref())
    }
    fn read(read: &mut dyn FieldRead, name: &'static str) -> FieldResult<Self> {
        Ok(read.optional_text(name)?.map(Cow::into_owned))
    }
}

impl FieldType for i64 {
    const SHAPE: Shape = Shape::Integer;
    fn field(&self) -> Field<'_> {
        Field::Integer(*self)
    }
    fn read(read: &mut dyn FieldRead, name: &'static str) -> FieldResult<Self> {
        read.integer(name)
    }
}

impl FieldType for Option<i64> {
    const SHAPE: Shape = Shape::OptionalInteger;
    fn field(&self) -> Field<'_> {
        Field::OptionalInteger(*self)
    }
    fn read(read: &mut dyn FieldRead, name: &'static str) -> FieldResult<Self> {
        read.optional_integer(name)
    }
}

impl FieldType for bool {
    const SHAPE: Shape = Shape::Flag;
    fn field(&self) -> Field<'_> {
        Field::Flag(*self)
    }
    fn read(read: &mut dyn FieldRead, name: &'static str) -> FieldResult<Self> {
        read.flag(name)
    }
}

impl FieldType for Vec<String> {
    const SHAPE: Shape = Shape::List;
    fn field(&self) -> Field<'_> {
        Field::List(self)
    }
    fn read(read: &mut dyn FieldRead, name: &'static str) -> FieldResult<Self> {
        read.list(name)
    }
}

/// A record declared with `record!`.
pub(crate) trait Record: Sized {
    /// What each field holds, in order.
    const SHAPES: &'static [Shape];
    /// The names joined by ", " (the store's column list).
    const NAME_LIST: &'static str;
    /// Visits each field in order, with its name.
    fn each_field<'a>(&'a self, visit: &mut dyn FnMut(&'static str, Field<'a>));
    /// Reads a record, field by field in order.
    fn read(read: &mut dyn FieldRead) -> FieldResult<Self>;
    /// Reads into `self`, reusing its buffers (no allocation per row).
    fn read_into(&mut self, read: &mut dyn FieldRead) -> FieldResult<()>;
}

/// Says when a row was written, not what it holds (module doc).
pub(crate) fn is_seq(name: &str) -> bool {
    name == "seq" || name.ends_with("_seq")
}

/// The name a field is shown under and whether it is an amount in fen.
pub(crate) fn shown_name(name: &'static str) -> (&'static str, bool) {
    match name.strip_suffix("_fen") {
        Some(shown) => (shown, true),
        None => (name, false),
    }
}

/// A field as text, `None` when absent: an amount in fen (`shown_name`)
/// in CNY, a list space-separated (diff and the tables show fields so).
pub(crate) fn field_text(field: Field<'_>, is_fen: bool) -> Option<String> {
    match field {
        Field::Text(text) | Field::Word(text) => Some(text.to_string()),
        Field::OptionalText(text) => text.map(str::to_string),
        Field::OptionalInteger(number) if is_fen => number.map(format_fen),
        Field::OptionalInteger(number) => number.map(|number| number.to_string()),
        Field::Integer(number) if is_fen => Some(format_fen(number)),
        Field::Integer(number) => Some(number.to_string()),
        Field::Flag(flag) => Some(flag.to_string()),
        Field::List(texts) => Some(texts.join(" ")),
    }
}

/// Declares a record struct (every field `pub`) and its `Record`
/// implementation from one list of fields.
macro_rules! record {
    (
        $(#[$meta:meta])*
        pub struct $name:ident {
            $(#[$first_meta:meta])* pub $first:ident : $first_type:ty
            $(, $(#[$field_meta:meta])* pub $field:ident : $type:ty)* $(,)?
        }
    ) => {
        $(#[$meta])*
        pub struct $name {
            $(#[$first_meta])* pub $first: $first_type,
            $($(#[$field_meta])* pub $field: $type,)*
        }

        impl $crate::domain::record::Record for $name {
            const SHAPES: &'static [$crate::domain::record::Shape] = &[
                <$first_type as $crate::domain::record::FieldType>::SHAPE
                $(, <$type as $crate::domain::record::FieldType>::SHAPE)*
            ];
            const NAME_LIST: &'static str = concat!(stringify!($first) $(, ", ", stringify!($field))*);

            fn each_field<'a>(
                &'a self,
                visit: &mut dyn FnMut(&'static str, $crate::domain::record::Field<'a>),
            ) {
                use $crate::domain::record::FieldType;
                visit(stringify!($first), self.$first.field());
                $(visit(stringify!($field), self.$field.field());)*
            }

            fn read(
                read: &mut dyn $crate::domain::record::FieldRead,
            ) -> $crate::domain::record::FieldResult<Self> {
                use $crate::domain::record::FieldType;
                // Struct fields are evaluated in the order written.
                Ok($name {
                    $first: FieldType::read(read, stringify!($first))?,
                    $($field: FieldType::read(read, stringify!($field))?,)*
                })
            }

            fn read_into(
                &mut self,
                read: &mut dyn $crate::domain::record::FieldRead,
            ) -> $crate::domain::record::FieldResult<()> {
                use $crate::domain::record::FieldType;
                self.$first.read_into(read, stringify!($first))?;
                $(self.$field.read_into(read, stringify!($field))?;)*
                Ok(())
            }
        }
    };
}
pub(crate) use record;

/// A `text_enum!` is a record field held as its text.
macro_rules! word_field {
    ($($name:ty),*) => {$(
        impl FieldType for $name {
            const SHAPE: Shape = Shape::Word;
            fn field(&self) -> Field<'_> {
                Field::Word(self.as_str())
            }
            fn read(read: &mut dyn FieldRead, name: &'static str) -> FieldResult<Self> {
                <$name>::parse(name, &read.text(name)?).map_err(|error| error.to_string())
            }
        }
    )*};
}
word_field!(
    super::types::Billing,
    super::types::InstanceState,
    super::types::Status,
    super::types::Origin
);

/// Reads fields from a list of values, in order (tests, and what a record
/// writes read back).
#[cfg(test)]
pub(crate) struct Fields<'a>(pub std::vec::IntoIter<Field<'a>>);

#[cfg(test)]
impl FieldRead for Fields<'_> {
    fn text(&mut self, name: &'static str) -> FieldResult<Cow<'_, str>> {
        match self.0.next() {
            Some(Field::Text(text)) => Ok(text.into()),
            Some(Field::Word(text)) => Ok(text.into()),
            other => Err(format!("{name}: {other:?}")),
        }
    }
    fn optional_text(&mut self, name: &'static str) -> FieldResult<Option<Cow<'_, str>>> {
        match self.0.next() {
            Some(Field::OptionalText(text)) => Ok(text.map(Cow::from)),
            other => Err(format!("{name}: {other:?}")),
        }
    }
    fn integer(&mut self, name: &'static str) -> FieldResult<i64> {
        match self.0.next() {
            Some(Field::Integer(number)) => Ok(number),
            other => Err(format!("{name}: {other:?}")),
        }
    }
    fn optional_integer(&mut self, name: &'static str) -> FieldResult<Option<i64>> {
        match self.0.next() {
            Some(Field::OptionalInteger(number)) => Ok(number),
            other => Err(format!("{name}: {other:?}")),
        }
    }
    fn flag(&mut self, name: &'static str) -> FieldResult<bool> {
        match self.0.next() {
            Some(Field::Flag(flag)) => Ok(flag),
            other => Err(format!("{name}: {other:?}")),
        }
    }
    fn list(&mut self, name: &'static str) -> FieldResult<Vec<String>> {
        match self.0.next() {
            Some(Field::List(list)) => Ok(list.to_vec()),
            other => Err(format!("{name}: {other:?}")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::types::Instance;

    #[test]
    fn a_record_reads_back_from_the_fields_it_visits() {
        let instance = Instance::example("i-1");
        let mut fields = Vec::new();
        let mut names = Vec::new();
        instance.each_field(&mut |name, field| {
            names.push(name);
            fields.push(field);
        });
        assert_eq!(names.join(", "), Instance::NAME_LIST);
        assert_eq!(fields.len(), Instance::SHAPES.len());
        let read = Instance::read(&mut Fields(fields.clone().into_iter())).unwrap();
        assert_eq!(read, instance);
        let mut refilled = Instance::example("i-other");
        refilled.read_into(&mut Fields(fields.into_iter())).unwrap();
        assert_eq!(refilled, instance);
    }
}
