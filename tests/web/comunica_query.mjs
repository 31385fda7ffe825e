// Run one SELECT query with Comunica, unmodified, as package.json pins it; print the answer as JSON.
//
//   node tests/web/comunica_query.mjs [--traverse] [--lenient] [--source SOURCE]... QUERY
//
// A SOURCE is a URL Comunica dereferences itself (a /id/ URI, a /doc/ document, a dump, the
// VoID), or `sparql@URL` for a SPARQL endpoint. With --traverse the query runs in
// @comunica/query-sparql-link-traversal (its default configuration: the IRIs in the query are
// the seeds, and links that match the query's patterns are followed); without it in
// @comunica/query-sparql. The only thing added is a fetch that notes each URL before passing the
// request on to Node's own fetch, so a test can see which documents were read.
//
// Output on stdout: {"variables": [...], "bindings": [{name: term}], "fetched": [url, ...]},
// terms as in SPARQL JSON results. Any error: its message on stderr and exit status 1.
import { createRequire } from "node:module";

const require = createRequire(import.meta.url);

function parse(argv) {
  const options = { traverse: false, lenient: false, sources: [], query: null };
  for (let i = 0; i < argv.length; i += 1) {
    const arg = argv[i];
    if (arg === "--traverse") options.traverse = true;
    else if (arg === "--lenient") options.lenient = true;
    else if (arg === "--source") options.sources.push(argv[(i += 1)]);
    else if (options.query === null) options.query = arg;
    else throw new Error(`unexpected argument: ${arg}`);
  }
  if (!options.query) throw new Error("usage: comunica_query.mjs [--traverse] [--lenient] [--source SOURCE]... QUERY");
  return options;
}

function source(spec) {
  return spec.startsWith("sparql@") ? { type: "sparql", value: spec.slice("sparql@".length) } : spec;
}

function term(value) {
  switch (value.termType) {
    case "NamedNode":
      return { type: "uri", value: value.value };
    case "BlankNode":
      return { type: "bnode", value: value.value };
    case "Literal": {
      const literal = { type: "literal", value: value.value };
      if (value.language) literal["xml:lang"] = value.language;
      else literal.datatype = value.datatype.value;
      return literal;
    }
    default:
      return { type: value.termType, value: value.value };
  }
}

async function main() {
  const options = parse(process.argv.slice(2));
  const { QueryEngine } = require(options.traverse ? "@comunica/query-sparql-link-traversal" : "@comunica/query-sparql");
  const fetched = [];
  const context = {
    sources: options.sources.map(source),
    lenient: options.lenient,
    fetch: (input, init) => {
      fetched.push(typeof input === "string" ? input : input.url ?? String(input));
      return globalThis.fetch(input, init);
    },
  };
  if (options.traverse && context.sources.length === 0) delete context.sources;
  const engine = new QueryEngine();
  const stream = await engine.queryBindings(options.query, context);
  const rows = await stream.toArray();
  const variables = new Set();
  const bindings = rows.map((row) => {
    const out = {};
    for (const [variable, value] of row) {
      variables.add(variable.value);
      out[variable.value] = term(value);
    }
    return out;
  });
  process.stdout.write(JSON.stringify({ variables: [...variables], bindings, fetched }) + "\n");
}

main().then(
  () => process.exit(0),
  (error) => {
    process.stderr.write(`${error && error.stack ? error.stack : error}\n`);
    process.exit(1);
  },
);
