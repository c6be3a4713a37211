# Pouch: data protection as a service for OpenStack clouds.
GO ?= go
export PATH := /usr/local/go/bin:$(PATH)

.PHONY: run test check build bench fuzz clean lambda

## run: the embedded default: every function in one process on 127.0.0.1:8799
run:
	$(GO) run ./cmd/pouch serve

## test: install what the tests need (apt: redis-server, keystone, mariadb, swift, the OpenStack services, the Karbor clients), check the code, run every test
test: check
	$(GO) test -count=1 -timeout 80m ./...

check:
	tests/setup.sh
	$(GO) vet ./...
	@out=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); \
	if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi

build:
	$(GO) build -o bin/pouch ./cmd/pouch

## lambda: the AWS Lambda bootstrap (provided.al2023) in bin/lambda/<arch>/bootstrap, and bootstrap.zip when zip exists
LAMBDA_ARCHS ?= amd64 arm64
lambda:
	for arch in $(LAMBDA_ARCHS); do \
		mkdir -p bin/lambda/$$arch && \
		CGO_ENABLED=0 GOOS=linux GOARCH=$$arch $(GO) build -trimpath -ldflags "-s -w" -tags lambda.norpc \
			-o bin/lambda/$$arch/bootstrap ./cmd/bootstrap || exit 1; \
		if command -v zip >/dev/null; then \
			rm -f bin/lambda/$$arch/bootstrap.zip; (cd bin/lambda/$$arch && zip -q -X bootstrap.zip bootstrap) || exit 1; \
		fi; \
	done

## bench: the benchmarks recorded in docs/benchmarks.md
bench:
	tests/setup.sh
	$(GO) test -run XXX -bench . -benchtime 3x ./tests/engine/
	$(GO) test -run XXX -bench BenchmarkPlanList -benchtime 200x ./tests/api/
	$(GO) test -run XXX -bench BenchmarkTick -benchtime 20x ./tests/scheduler/
	$(GO) test -run XXX -bench . ./shared/invoke/
	$(GO) test -run XXX -bench ProtectVsSwiftCLI -benchtime 3x -timeout 60m ./tests/swift/
	$(GO) test -run XXX -bench BenchmarkImageProtectVsCLI -benchtime 3x -timeout 60m ./tests/openstack/
	tests/bench/coldstart.sh 31

## fuzz: run each fuzz target for a while (their seed corpora run in make test)
FUZZTIME ?= 60s
fuzz:
	tests/setup.sh
	for f in FuzzParseLiteral FuzzValidate FuzzDecodeBody; do \
		$(GO) test -run XXX -fuzz "^$$f$$" -fuzztime $(FUZZTIME) -fuzzminimizetime 2s ./shared/api/ || exit 1; done
	for f in FuzzAPIBodies FuzzAPIQuery; do \
		$(GO) test -run XXX -fuzz "^$$f$$" -fuzztime $(FUZZTIME) -fuzzminimizetime 2s ./tests/api/ || exit 1; done

clean:
	rm -rf bin .pouch
