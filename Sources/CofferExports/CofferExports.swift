/// CofferExports: zip containers and deflate, CSV records, export names.
