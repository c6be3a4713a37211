package lambdafn

import (
	"errors"

	"github.com/aws/aws-lambda-go/lambda/messages"
)

// DefaultErrorType is the errorType of an error given none with WithType.
const DefaultErrorType = "Error"

// typedError is an error with the errorType Lambda reports for it.
type typedError struct {
	typ string
	err error
}

func (e *typedError) Error() string { return e.err.Error() }
func (e *typedError) Unwrap() error { return e.err }

// WithType gives err the errorType typ (e.g. "InvalidTask") in Lambda's
// error response. A nil err stays nil.
func WithType(typ string, err error) error {
	if err == nil {
		return nil
	}
	return &typedError{typ: typ, err: err}
}

// ErrorType is the errorType Lambda reports for err: the outermost type
// given with WithType, else DefaultErrorType.
func ErrorType(err error) string {
	var te *typedError
	if errors.As(err, &te) {
		return te.typ
	}
	return DefaultErrorType
}

// lambdaError turns err into the error value aws-lambda-go reports as it is,
// {"errorMessage": err.Error(), "errorType": ErrorType(err)}, instead of
// naming the error's Go type.
func lambdaError(err error) error {
	if err == nil {
		return nil
	}
	if le, ok := err.(messages.InvokeResponse_Error); ok {
		return le
	}
	return messages.InvokeResponse_Error{Message: err.Error(), Type: ErrorType(err)}
}
