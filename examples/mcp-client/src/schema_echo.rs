//! `--echo-schema ECHO=TOOL`: hands TOOL's `inputSchema`, exactly as the server listed it, to the
//! tool ECHO as its `schema` argument. A server can then see which JSON Schema keywords (`$defs`,
//! `$anchor`, `if`/`then`/`else`...) survived the client's parsing; `rmcp` keeps the schema as a
//! JSON object, so none is lost.

use serde_json::Value;
use workos_connect_reqwest::rmcp::model::{CallToolRequestParams, JsonObject, Tool};

/// The echo tool and the tool whose schema it receives.
#[derive(Clone, Debug)]
pub struct SchemaEcho {
    echo_tool: String,
    schema_of: String,
}

/// Reads `ECHO=TOOL`.
pub fn schema_echo(value: &str) -> Result<SchemaEcho, String> {
    match value.split_once('=') {
        Some((echo_tool, schema_of)) if !echo_tool.is_empty() && !schema_of.is_empty() => {
            Ok(SchemaEcho {
                echo_tool: echo_tool.to_owned(),
                schema_of: schema_of.to_owned(),
            })
        }
        _ => Err("give the echo tool and the tool whose schema it gets as ECHO=TOOL".to_owned()),
    }
}

impl SchemaEcho {
    /// The echo tool's name, to print its result under.
    pub fn echo_tool(&self) -> &str {
        &self.echo_tool
    }

    /// The tool whose schema is echoed.
    pub fn schema_of(&self) -> &str {
        &self.schema_of
    }

    /// The `tools/call` of the echo tool, from the listed `tools`; `None` when the server lists no
    /// tool of that name.
    pub fn call(&self, tools: &[Tool]) -> Option<CallToolRequestParams> {
        let tool = tools.iter().find(|tool| tool.name == self.schema_of)?;
        let mut arguments = JsonObject::new();
        arguments.insert(
            "schema".to_owned(),
            Value::Object(tool.input_schema.as_ref().clone()),
        );
        Some(CallToolRequestParams::new(self.echo_tool.clone()).with_arguments(arguments))
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;

    fn tool(name: &'static str, schema: Value) -> Tool {
        let Value::Object(schema) = schema else {
            panic!("a schema is an object")
        };
        Tool::new(name, "", Arc::new(schema))
    }

    #[test]
    fn the_schema_goes_back_verbatim() {
        let schema = serde_json::json!({
            "$schema": "https://json-schema.org/draft/2020-12/schema",
            "type": "object",
            "$defs": {"address": {"$anchor": "addr", "type": "object"}},
            "if": {"required": ["a"]}, "then": {"required": ["b"]}, "else": {},
            "additionalProperties": false
        });
        let tools = [
            tool("rich", schema.clone()),
            tool("echo", serde_json::json!({"type": "object"})),
        ];
        let echo = schema_echo("echo=rich").unwrap();
        let call = echo.call(&tools).unwrap();
        assert_eq!(call.name, "echo");
        assert_eq!(call.arguments.unwrap()["schema"], schema);
    }

    #[test]
    fn an_unlisted_tool_or_a_malformed_option_is_refused() {
        let tools = [tool("echo", serde_json::json!({"type": "object"}))];
        assert!(schema_echo("echo=rich").unwrap().call(&tools).is_none());
        for bad in ["echo", "=rich", "echo="] {
            assert!(schema_echo(bad).is_err(), "{bad}");
        }
    }
}
