#!/bin/sh
# Builds ./handler in a build context made by "faas-cli build --shrinkwrap":
# this template at the root (main.go, go.mod, go.work), the handler folder
# (./functions/<name>) in function/, and the Pouch module that stack.yml's
# "configuration: copy" adds in function/ too (go.mod, go.sum, bank,
# functions, plugins, shared), so that function/ is the module's root.
# The Dockerfile runs it; so does tests/faas, without Docker.
set -eu
cd "$(dirname "$0")"

if [ ! -f function/go.mod ]; then
	echo "pouch-go: function/go.mod is missing: stack.yml must copy the module into the build context" >&2
	echo "pouch-go: (configuration: copy: [./go.mod, ./go.sum, ./bank, ./functions, ./plugins, ./shared])" >&2
	exit 1
fi

# The handler folder's Go package names the function: functions/hook is
# package hook. Its files must be those of functions/<name> in the module.
name=$(cd function && go list -f '{{.Name}}' .)
for f in function/*.go; do
	if ! cmp -s "$f" "function/functions/$name/${f#function/}"; then
		echo "pouch-go: $f is not a file of functions/$name: the handler must be one of ./functions/*" >&2
		exit 1
	fi
done

echo "pouch-go: building function $name" >&2
go build -trimpath -ldflags "-s -w -X main.function=$name" -o handler .
