// Loaded with `nomodule`: only a browser that cannot run the ballot's modules runs this, and says so.
document.querySelector("[data-old-browser]").hidden = false;
