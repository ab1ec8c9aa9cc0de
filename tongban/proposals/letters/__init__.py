"""Reply letters (答复函) in the GB/T 9704-2012 letter format: ``document`` is what a letter says,
the renderers turn it into .docx and .pdf."""
