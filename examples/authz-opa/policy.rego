# The policy the OPA server holds for this example (opa run --server examples/authz-opa/policy.rego).
# opa-standin.js decides the same way, for running offline without OPA.
package example.authz

import rego.v1

default allow := false

allow if {
	"readonly" in input.auth.attrs.scope
	input.method == "GET"
}

allow if {
	"update" in input.auth.attrs.scope
	input.method == "POST"
}
