"""The dataset's static website: `pipeline site` turns a build folder into browsable pages."""
