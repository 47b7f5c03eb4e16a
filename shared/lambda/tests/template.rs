//! `template.yaml` deploys every tool of the registry: a function that
//! serves it (`GS_TOOL`), the gateway's right to invoke that function, and a
//! role that traces to X-Ray. (cfn-lint and `sam validate` check the rest.)

use std::path::PathBuf;

fn template() -> String {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..");
    std::fs::read_to_string(root.join("template.yaml")).unwrap()
}

fn camel(name: &str) -> String {
    name.split('_')
        .map(|w| {
            let mut c = w.chars();
            c.next()
                .map(|f| f.to_ascii_uppercase().to_string() + c.as_str())
                .unwrap_or_default()
        })
        .collect()
}

#[test]
fn every_tool_has_a_function_the_gateway_may_invoke() {
    let text = template();
    let invoke_list = text
        .split("Sid: InvokeTools")
        .nth(1)
        .and_then(|rest| rest.split("- Sid:").next())
        .expect("the gateway's InvokeTools statement");
    for spec in gs_tools::registry() {
        let name = spec.name;
        assert!(
            text.contains(&format!("GS_TOOL: {name}\n")),
            "no function serves {name} (GS_TOOL: {name})"
        );
        let function = format!("!GetAtt {}Function.Arn", camel(name));
        assert!(
            invoke_list.contains(&function),
            "the gateway may not invoke {name}'s function ({function})"
        );
        let role = format!("Role: !GetAtt {}Role.Arn", camel(name));
        assert!(
            text.contains(&role),
            "{name}'s function has its own role ({role})"
        );
    }
    assert!(text.contains("Tracing: Active"), "X-Ray active tracing");
    let roles = text.matches("    Type: AWS::IAM::Role\n").count();
    let traced = text.matches("        - !Ref XRayWritePolicy\n").count();
    assert_eq!(
        roles, traced,
        "every explicit role may write trace segments"
    );
}

/// Live trading is a deployment choice that defaults to off, and only the
/// two order tools get it (with the field key to open the users' broker
/// keys, and no other field's data keys).
#[test]
fn live_trading_is_off_unless_deployed_on_and_only_for_orders() {
    let text = template();
    let parameter = text
        .split("\n  LiveBroker:\n")
        .nth(1)
        .and_then(|rest| rest.split("\n\n").next())
        .expect("a LiveBroker parameter");
    assert!(parameter.contains("Default: \"off\""), "{parameter}");
    let served: Vec<&str> = text
        .split("GS_TOOL: ")
        .skip(1)
        .filter(|rest| {
            rest.split("\n\n")
                .next()
                .is_some_and(|block| block.contains("GS_LIVE_BROKER: !Ref LiveBroker"))
        })
        .filter_map(|rest| rest.lines().next())
        .collect();
    assert_eq!(served, ["place_order", "cancel_order"]);
    assert_eq!(text.matches("- Sid: OpenBrokerCredentials").count(), 2);
    assert_eq!(
        text.matches("kms:EncryptionContext:field: credentials")
            .count(),
        2
    );
}
