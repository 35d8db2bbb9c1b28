"""Wire protocols: JSON 1.1, Query, REST-XML, SigV4, dispatch, errors."""
