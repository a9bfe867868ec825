"""Drop-in replacements for other decoders' Python APIs, backed by pywfst graphs and search:
``pywfst.compat.torchaudio.ctc_decoder`` for torchaudio's (flashlight-text's) ``ctc_decoder``,
``pywfst.compat.pyctcdecode.build_ctcdecoder`` for pyctcdecode's."""
