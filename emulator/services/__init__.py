"""The AWS services the server answers: model, responses, exceptions each."""
