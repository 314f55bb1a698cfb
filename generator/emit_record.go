package generator

import (
	"fmt"
	"time"

	"github.com/dave/jennifer/jen"

	"github.com/repokit/repokit/schema"
)

// emitRecord builds <record>.go: enum types, the struct, field handles, the query
// constructor, the repository alias and the descriptor with its functions.
func emitRecord(m *Model, r *Record) *jen.File {
	f := newFile(m)
	for _, fd := range r.Enums() {
		emitEnum(f, r, fd)
	}
	emitStruct(f, m, r)
	emitHandles(f, r)

	f.Commentf("%s returns a query matching every %s, in id order.", r.QueryFunc(), r.GoName())
	f.Func().Id(r.QueryFunc()).Params().Qual(pkgQuery, "Query").Types(jen.Id(r.GoName())).Block(
		jen.Return(jen.Qual(pkgQuery, "New").Types(jen.Id(r.GoName())).Call()),
	)

	f.Commentf("%s is the repository of %s records, the same on every backend.", r.RepositoryType(), r.GoName())
	f.Type().Id(r.RepositoryType()).Op("=").Qual(pkgRepo, "Repository").Types(jen.Id(r.GoName()))

	emitDescriptor(f, r)
	emitClone(f, r)
	emitPrepare(f, r)
	emitProject(f, r)
	emitAddr(f, r)
	return f
}

func emitEnum(f *jen.File, r *Record, fd *Field) {
	what := "the type"
	if fd.IsList() {
		what = "the element type"
	}
	f.Commentf("%s is %s of %s.%s.", fd.EnumType(), what, r.Name(), fd.Name())
	f.Type().Id(fd.EnumType()).String()

	f.Commentf("Values of %s.", fd.EnumType())
	f.Const().DefsFunc(func(g *jen.Group) {
		for i, v := range fd.Values() {
			g.Id(fd.EnumConsts()[i]).Id(fd.EnumType()).Op("=").Lit(v)
		}
	})

	f.Commentf("%s lists the values of %s, in schema order.", fd.ValuesVar(), fd.EnumType())
	f.Var().Id(fd.ValuesVar()).Op("=").Index().String().ValuesFunc(func(g *jen.Group) {
		for _, v := range fd.Values() {
			g.Lit(v)
		}
	})
}

// elemType returns the Go type of one value of the field (the element type for lists).
func elemType(fd *Field) *jen.Statement {
	switch fd.Type() {
	case schema.TypeString, schema.TypeText, schema.TypeUUID:
		return jen.String()
	case schema.TypeEnum:
		return jen.Id(fd.EnumType())
	case schema.TypeInt:
		return jen.Int64()
	case schema.TypeFloat:
		return jen.Float64()
	case schema.TypeBool:
		return jen.Bool()
	case schema.TypeTime:
		return jen.Qual(pkgTime, "Time")
	case schema.TypeBytes:
		return jen.Index().Byte()
	case schema.TypeJSON:
		return jen.Qual(pkgJSON, "RawMessage")
	}
	panic("generator: unknown type " + string(fd.Type()))
}

// goType returns the Go type of the struct field.
func goType(fd *Field) *jen.Statement {
	switch {
	case fd.IsList():
		return jen.Index().Add(elemType(fd))
	case fd.Pointer():
		return jen.Op("*").Add(elemType(fd))
	}
	return elemType(fd)
}

func jsonTag(fd *Field) string {
	if fd.Required() && !fd.IsList() && fd.Type() != schema.TypeBytes && fd.Type() != schema.TypeJSON {
		return fd.Name()
	}
	return fd.Name() + ",omitempty"
}

func emitStruct(f *jen.File, m *Model, r *Record) {
	f.Add(docComment(r.DocComment(m.Package)))
	f.Type().Id(r.GoName()).StructFunc(func(g *jen.Group) {
		for _, fd := range r.All() {
			if doc := fd.Doc(); doc != "" {
				g.Add(docComment(doc))
			}
			g.Id(fd.GoName()).Add(goType(fd)).Tag(map[string]string{"json": jsonTag(fd)})
		}
		g.Line()
		g.Add(docComment("RecordVersion is the backend's opaque version token, set by every read and write;\npass it to repo.IfVersion for an optimistic update."))
		g.Id("RecordVersion").String().Tag(map[string]string{"json": "-"})
	})
}

// handle returns the field's handle type and constructor call.
func handle(fd *Field) (typ, ctor jen.Code) {
	rec := jen.Id(fd.rec.GoName())
	name := jen.Lit(fd.Name())
	if fd.IsList() {
		var elem jen.Code
		var fn string
		switch fd.Type() {
		case schema.TypeString, schema.TypeText, schema.TypeUUID:
			elem, fn = jen.String(), "NewStringListField"
		case schema.TypeEnum:
			return jen.Qual(pkgQuery, "ListField").Types(rec, jen.Id(fd.EnumType())),
				jen.Qual(pkgQuery, "NewEnumListField").Types(rec, jen.Id(fd.EnumType())).Call(name)
		case schema.TypeInt:
			elem, fn = jen.Int64(), "NewIntListField"
		case schema.TypeFloat:
			elem, fn = jen.Float64(), "NewFloatListField"
		case schema.TypeBool:
			elem, fn = jen.Bool(), "NewBoolListField"
		case schema.TypeTime:
			elem, fn = jen.Qual(pkgTime, "Time"), "NewTimeListField"
		default:
			panic("generator: no list handle for " + string(fd.Type()))
		}
		return jen.Qual(pkgQuery, "ListField").Types(rec, elem),
			jen.Qual(pkgQuery, fn).Types(rec).Call(name)
	}
	var t string
	switch fd.Type() {
	case schema.TypeText:
		t = "StringField"
		if fd.Search() != "" {
			t = "TextField"
		}
	case schema.TypeString, schema.TypeUUID:
		t = "StringField"
	case schema.TypeEnum:
		return jen.Qual(pkgQuery, "EnumField").Types(rec, jen.Id(fd.EnumType())),
			jen.Qual(pkgQuery, "NewEnumField").Types(rec, jen.Id(fd.EnumType())).Call(name)
	case schema.TypeInt:
		t = "IntField"
	case schema.TypeFloat:
		t = "FloatField"
	case schema.TypeBool:
		t = "BoolField"
	case schema.TypeTime:
		t = "TimeField"
	case schema.TypeBytes, schema.TypeJSON:
		t = "PresenceField"
	}
	return jen.Qual(pkgQuery, t).Types(rec), jen.Qual(pkgQuery, "New"+t).Types(rec).Call(name)
}

func emitHandles(f *jen.File, r *Record) {
	var types, values []jen.Code
	for _, fd := range r.All() {
		t, c := handle(fd)
		types = append(types, jen.Id(fd.GoName()).Add(t))
		values = append(values, kv(fd.GoName(), c))
	}
	f.Commentf("%s holds the typed field handles of %s, for filters and sort keys.", r.FieldsVar(), r.GoName())
	f.Var().Id(r.FieldsVar()).Op("=").Struct(types...).Add(multi(values...))
}

// recParam is "r *Record".
func recParam(r *Record) jen.Code { return jen.Id("r").Op("*").Id(r.GoName()) }

// accessor returns the descriptor accessor function of the field.
func accessor(r *Record, fd *Field) jen.Code {
	x := jen.Id("r").Dot(fd.GoName())
	if fd.IsList() {
		sliceOf := elemType(fd)
		if fd.Type() == schema.TypeEnum {
			return jen.Func().Params(recParam(r)).Index().String().Block(
				jen.If(jen.Len(x.Clone()).Op("==").Lit(0)).Block(jen.Return(jen.Nil())),
				jen.Id("out").Op(":=").Make(jen.Index().String(), jen.Len(x.Clone())),
				jen.For(jen.List(jen.Id("i"), jen.Id("v")).Op(":=").Range().Add(x.Clone())).Block(
					jen.Id("out").Index(jen.Id("i")).Op("=").String().Call(jen.Id("v")),
				),
				jen.Return(jen.Id("out")),
			)
		}
		return jen.Func().Params(recParam(r)).Index().Add(sliceOf).Block(jen.Return(x))
	}
	var val jen.Code // the value type returned
	switch fd.Type() {
	case schema.TypeString, schema.TypeText, schema.TypeUUID, schema.TypeEnum:
		val = jen.String()
	case schema.TypeInt:
		val = jen.Int64()
	case schema.TypeFloat:
		val = jen.Float64()
	case schema.TypeBool:
		val = jen.Bool()
	case schema.TypeTime:
		val = jen.Qual(pkgTime, "Time")
	case schema.TypeBytes, schema.TypeJSON:
		return jen.Func().Params(recParam(r)).Params(jen.Index().Byte(), jen.Bool()).Block(
			jen.Return(x.Clone(), jen.Len(x.Clone()).Op(">").Lit(0)),
		)
	}
	sig := jen.Func().Params(recParam(r)).Params(val, jen.Bool())
	conv := func(v jen.Code) jen.Code {
		if fd.Type() == schema.TypeEnum {
			return jen.String().Call(v)
		}
		return v
	}
	if !fd.Pointer() {
		return sig.Block(jen.Return(conv(x), jen.True()))
	}
	var zero jen.Code
	switch fd.Type() {
	case schema.TypeString, schema.TypeText, schema.TypeUUID, schema.TypeEnum:
		zero = jen.Lit("")
	case schema.TypeInt, schema.TypeFloat:
		zero = jen.Lit(0)
	case schema.TypeBool:
		zero = jen.False()
	case schema.TypeTime:
		zero = jen.Qual(pkgTime, "Time").Values()
	}
	return sig.Block(
		jen.If(x.Clone().Op("==").Nil()).Block(jen.Return(zero, jen.False())),
		jen.Return(conv(jen.Op("*").Add(x.Clone())), jen.True()),
	)
}

func emitDescriptor(f *jen.File, r *Record) {
	s := r.Schema()
	var fields []jen.Code
	for _, fd := range r.All() {
		items := []jen.Code{
			kv("Name", jen.Lit(fd.Name())),
			kv("GoName", jen.Lit(fd.GoName())),
			kv("Kind", jen.Qual(pkgQuery, fd.KindName())),
		}
		if fd.IsList() {
			items = append(items, kv("List", jen.True()))
		}
		if fd.Optional() {
			items = append(items, kv("Optional", jen.True()))
		}
		if fd.Unique() {
			items = append(items, kv("Unique", jen.True()))
		}
		if fd.Indexed() {
			items = append(items, kv("Indexed", jen.True()))
		}
		items = append(items, kv("Column", jen.Lit(fd.Name())), kv("JSON", jen.Lit(fd.Name())))
		if fd.Search() != "" {
			items = append(items, kv("Search", jen.Lit(fd.Search())))
		}
		if fd.EnumType() != "" {
			items = append(items, kv("Enum", jen.Index().String().ValuesFunc(func(g *jen.Group) {
				for _, v := range fd.Values() {
					g.Lit(v)
				}
			})))
		}
		items = append(items, kv(fd.Accessor(), accessor(r, fd)))
		fields = append(fields, jen.Values(items...))
	}
	rt := jen.Id(r.GoName())
	items := []jen.Code{
		kv("Name", jen.Lit(r.Name())),
		kv("Table", jen.Lit(s.Table)),
		kv("Index", jen.Lit(s.Index)),
		kv("Prefix", jen.Lit(s.Prefix)),
	}
	if s.ID.Generated {
		items = append(items, kv("IDGenerated", jen.True()))
	}
	id := jen.Id("r").Dot(r.ID().GoName())
	items = append(items,
		kv("Fields", jen.Index().Qual(pkgRecord, "Field").Types(rt).Add(multi(fields...))),
		kv("GetID", jen.Func().Params(recParam(r)).String().Block(jen.Return(id.Clone()))),
		kv("SetID", jen.Func().Params(recParam(r), jen.Id("id").String()).Block(id.Clone().Op("=").Id("id"))),
		kv("GetVersion", jen.Func().Params(recParam(r)).String().Block(jen.Return(jen.Id("r").Dot("RecordVersion")))),
		kv("SetVersion", jen.Func().Params(recParam(r), jen.Id("v").String()).Block(jen.Id("r").Dot("RecordVersion").Op("=").Id("v"))),
		kv("Clone", jen.Id(r.CloneFunc())),
		kv("Prepare", jen.Id(r.PrepareFunc())),
		kv("Project", jen.Id(r.ProjectFunc())),
		kv("Addr", jen.Id(r.AddrFunc())),
	)
	f.Commentf("%s describes %s to the runtime.", r.SchemaVar(), r.GoName())
	f.Var().Id(r.SchemaVar()).Op("=").Qual(pkgRecord, "MustNew").Call(
		jen.Op("&").Qual(pkgRecord, "Desc").Types(rt).Add(multi(items...)),
	)
}

// copyInto returns the statements that set dst.X to a deep copy of src.X.
func copyInto(fd *Field, dst, src string) []jen.Code {
	d := jen.Id(dst).Dot(fd.GoName())
	s := jen.Id(src).Dot(fd.GoName())
	switch {
	case fd.IsList():
		return []jen.Code{d.Op("=").Qual(pkgSlices, "Clone").Call(s)}
	case fd.Type() == schema.TypeBytes || fd.Type() == schema.TypeJSON:
		return []jen.Code{d.Op("=").Qual(pkgBytes, "Clone").Call(s)}
	case fd.Pointer():
		return []jen.Code{jen.If(s.Clone().Op("!=").Nil()).Block(
			jen.Id("v").Op(":=").Op("*").Add(s.Clone()),
			d.Clone().Op("=").Op("&").Id("v"),
		)}
	}
	return []jen.Code{d.Op("=").Add(s)}
}

func emitClone(f *jen.File, r *Record) {
	body := []jen.Code{jen.Id("c").Op(":=").Op("*").Id("r")}
	for _, fd := range r.Fields() {
		if fd.ByValue() && !fd.IsList() && fd.Type() != schema.TypeBytes && fd.Type() != schema.TypeJSON {
			continue // copied with the struct
		}
		body = append(body, copyInto(fd, "c", "r")...)
	}
	body = append(body, jen.Return(jen.Id("c")))
	f.Commentf("%s returns a deep copy of r: it shares no pointer or slice with it.", r.CloneFunc())
	f.Func().Id(r.CloneFunc()).Params(recParam(r)).Id(r.GoName()).Block(body...)
}

func emitProject(f *jen.File, r *Record) {
	var cases []jen.Code
	for _, fd := range r.Fields() {
		stmts := copyInto(fd, "dst", "src")
		if fd.Pointer() {
			stmts = append([]jen.Code{jen.Id("dst").Dot(fd.GoName()).Op("=").Nil()}, stmts...)
		}
		cases = append(cases, jen.Case(jen.Lit(fd.Index())).Block(stmts...))
	}
	id := r.ID().GoName()
	body := []jen.Code{jen.Id("dst").Dot(id).Op("=").Id("src").Dot(id)}
	if len(cases) > 0 {
		body = append(body, jen.For(jen.List(jen.Id("_"), jen.Id("i")).Op(":=").Range().Id("fields")).Block(
			jen.Switch(jen.Id("i")).Block(cases...),
		))
	}
	f.Add(docComment(fmt.Sprintf("%s copies the fields with the given descriptor indexes, and the id, from src\n"+
		"to dst, sharing no pointer or slice with src.", r.ProjectFunc())))
	params := []jen.Code{jen.List(jen.Id("dst"), jen.Id("src")).Op("*").Id(r.GoName()), jen.Id("fields").Index().Int()}
	if len(cases) == 0 {
		params[1] = jen.Id("_").Index().Int()
	}
	f.Func().Id(r.ProjectFunc()).Params(params...).Block(body...)
}

// fieldError returns "return &record.FieldError{Record: ..., Field: ..., Err: err}".
func fieldError(r *Record, fd *Field, err jen.Code) jen.Code {
	return jen.Return(jen.Op("&").Qual(pkgRecord, "FieldError").Values(
		kv("Record", jen.Lit(r.Name())),
		kv("Field", jen.Lit(fd.Name())),
		kv("Err", err),
	))
}

// check returns "if err := call; err != nil { return <field error> }".
func check(r *Record, fd *Field, call jen.Code) jen.Code {
	return jen.If(jen.Err().Op(":=").Add(call), jen.Err().Op("!=").Nil()).Block(fieldError(r, fd, jen.Err()))
}

// checkValue returns the check of one value v of the field (an element, for lists), or nil.
func checkValue(r *Record, fd *Field, v jen.Code) jen.Code {
	switch fd.Type() {
	case schema.TypeString, schema.TypeText:
		return check(r, fd, jen.Qual(pkgRecord, "CheckString").Call(v))
	case schema.TypeUUID:
		return check(r, fd, jen.Qual(pkgRecord, "CheckUUID").Call(v))
	case schema.TypeEnum:
		return check(r, fd, jen.Qual(pkgRecord, "CheckEnum").Call(jen.String().Call(v), jen.Id(fd.ValuesVar())))
	case schema.TypeFloat:
		return check(r, fd, jen.Qual(pkgRecord, "CheckFloat").Call(v))
	}
	return nil
}

// defaultValue returns the Go expression of the field's default.
func defaultValue(fd *Field) jen.Code {
	d := fd.Default()
	switch fd.Type() {
	case schema.TypeEnum:
		return jen.Id(fd.EnumConst(d.(string)))
	case schema.TypeInt:
		return jen.Lit(d.(int64)) // renders as int64(n)
	case schema.TypeFloat:
		switch v := d.(type) {
		case int64:
			return jen.Float64().Call(jen.Lit(v))
		case float64:
			return jen.Float64().Call(jen.Lit(v))
		}
	case schema.TypeTime:
		t, _ := time.Parse(time.RFC3339Nano, d.(string)) // checked by buildModel
		t = t.UTC().Truncate(time.Microsecond)
		return jen.Qual(pkgTime, "Date").Call(jen.Lit(t.Year()), jen.Qual(pkgTime, t.Month().String()),
			jen.Lit(t.Day()), jen.Lit(t.Hour()), jen.Lit(t.Minute()), jen.Lit(t.Second()), jen.Lit(t.Nanosecond()),
			jen.Qual(pkgTime, "UTC"))
	}
	return jen.Lit(d)
}

func emitPrepare(f *jen.File, r *Record) {
	var body []jen.Code
	id := r.ID()
	body = append(body, checkValue(r, id, jen.Id("r").Dot(id.GoName())))
	for _, fd := range r.Fields() {
		x := jen.Id("r").Dot(fd.GoName())
		if fd.Pointer() && fd.Default() != nil {
			body = append(body, jen.If(x.Clone().Op("==").Nil()).Block(
				jen.Id("v").Op(":=").Add(defaultValue(fd)),
				x.Clone().Op("=").Op("&").Id("v"),
			))
		}
		if fd.Type() == schema.TypeTime {
			switch {
			case fd.IsList():
				body = append(body, x.Clone().Op("=").Qual(pkgRecord, "NormalizeTimes").Call(x.Clone()))
			case fd.Pointer():
				body = append(body, jen.If(x.Clone().Op("!=").Nil()).Block(
					jen.Id("v").Op(":=").Qual(pkgRecord, "NormalizeTime").Call(jen.Op("*").Add(x.Clone())),
					x.Clone().Op("=").Op("&").Id("v"),
				))
			default:
				body = append(body, x.Clone().Op("=").Qual(pkgRecord, "NormalizeTime").Call(x.Clone()))
			}
		}
		empty := fd.IsList() || fd.Type() == schema.TypeBytes || fd.Type() == schema.TypeJSON
		if empty && fd.Required() {
			body = append(body, jen.If(jen.Len(x.Clone()).Op("==").Lit(0)).Block(
				fieldError(r, fd, jen.Qual(pkgErrors, "New").Call(jen.Lit("required value is empty"))),
			))
		}
		switch {
		case fd.Type() == schema.TypeJSON:
			body = append(body, jen.If(jen.Len(x.Clone()).Op(">").Lit(0).Op("&&").Op("!").Qual(pkgRecord, "ValidJSON").Call(x.Clone())).Block(
				fieldError(r, fd, jen.Qual(pkgErrors, "New").Call(jen.Lit("invalid JSON"))),
			))
		case fd.IsList():
			if c := checkValue(r, fd, jen.Id("v")); c != nil {
				body = append(body, jen.For(jen.List(jen.Id("_"), jen.Id("v")).Op(":=").Range().Add(x.Clone())).Block(c))
			}
		case fd.Pointer():
			if c := checkValue(r, fd, jen.Op("*").Add(x.Clone())); c != nil {
				body = append(body, jen.If(x.Clone().Op("!=").Nil()).Block(c))
			}
		default:
			if c := checkValue(r, fd, x.Clone()); c != nil {
				body = append(body, c)
			}
		}
		body = append(body, roundTrip(fd, x)...)
	}
	body = append(body, jen.Return(jen.Nil()))
	f.Add(docComment(fmt.Sprintf("%s runs before every write, on the repository's own copy of r: it applies\n"+
		"defaults, normalizes times, checks every value, then applies the round-trip rule of\n"+
		"docs/semantics.md (−0 as +0, empty lists, bytes and JSON as nil, JSON compacted) so\n"+
		"that every backend gives back the same record. It never writes through a pointer or\n"+
		"into a slice it received.", r.PrepareFunc())))
	f.Func().Id(r.PrepareFunc()).Params(recParam(r)).Error().Block(body...)
}

// roundTrip returns the statements normalizing the checked field x to the one form every
// backend stores and gives back (docs/semantics.md, "Round trip"): −0 becomes +0, an empty
// list, bytes or JSON value becomes nil (missing), and JSON is compacted.
func roundTrip(fd *Field, x *jen.Statement) []jen.Code {
	var out []jen.Code
	switch {
	case fd.Type() == schema.TypeJSON:
		return []jen.Code{x.Clone().Op("=").Qual(pkgRecord, "CompactJSON").Call(x.Clone())}
	case fd.IsList() || fd.Type() == schema.TypeBytes:
		out = append(out, jen.If(jen.Len(x.Clone()).Op("==").Lit(0)).Block(x.Clone().Op("=").Nil()))
	}
	if fd.Type() == schema.TypeFloat {
		switch {
		case fd.IsList():
			out = append(out, x.Clone().Op("=").Qual(pkgRecord, "NormalizeFloats").Call(x.Clone()))
		case fd.Pointer():
			out = append(out, x.Clone().Op("=").Qual(pkgRecord, "NormalizeFloatPtr").Call(x.Clone()))
		default:
			out = append(out, x.Clone().Op("=").Qual(pkgRecord, "NormalizeFloat").Call(x.Clone()))
		}
	}
	return out
}

// emitAddr emits the function returning a pointer to the struct field with a descriptor
// index, which decoders and row scanners fill without reflection.
func emitAddr(f *jen.File, r *Record) {
	var cases []jen.Code
	for _, fd := range r.All() {
		cases = append(cases, jen.Case(jen.Lit(fd.Index())).Block(
			jen.Return(jen.Op("&").Id("r").Dot(fd.GoName())),
		))
	}
	f.Add(docComment(fmt.Sprintf("%s returns a pointer to the field of r with the given descriptor index, or nil.", r.AddrFunc())))
	f.Func().Id(r.AddrFunc()).Params(recParam(r), jen.Id("field").Int()).Any().Block(
		jen.Switch(jen.Id("field")).Block(cases...),
		jen.Return(jen.Nil()),
	)
}
