"""Expected failures of sklearn's common checks, with the reason for each (see test_common.py).

Every check named here builds its own tabular data: a handful of features, negative or
unbounded values, 1-feature or 1-sample arrays, complex or object data. Digit estimators accept
only images (784 pixels, uint8 0-255 or float 0-1) and reject such data with a ValueError by
design, so these checks cannot reach what they test. What they would test (pickling, fit
idempotence, subset and order invariance, clean errors on NaN, empty or wrongly-shaped input)
is tested on real MNIST images in test_transforms.py and test_cnn.py instead.
"""

TABULAR = "the check feeds tabular data (not 28x28 images), which image estimators reject by design"

# checks that fail the same way for every image estimator
SHARED_CHECKS = [
    "check_complex_data",
    "check_dict_unchanged",
    "check_dont_overwrite_parameters",
    "check_dtype_object",
    "check_estimators_dtypes",
    "check_estimators_empty_data_messages",
    "check_estimators_fit_returns_self",
    "check_estimators_nan_inf",
    "check_estimators_overwrite_params",
    "check_estimators_pickle",
    "check_f_contiguous_array_estimator",
    "check_fit2d_1feature",
    "check_fit2d_1sample",
    "check_fit2d_predict1d",
    "check_fit_check_is_fitted",
    "check_fit_idempotent",
    "check_fit_score_takes_y",
    "check_methods_sample_order_invariance",
    "check_methods_subset_invariance",
    "check_n_features_in",
    "check_n_features_in_after_fitting",
    "check_pipeline_consistency",
    "check_positive_only_tag_during_fit",
    "check_readonly_memmap_input",
]

TRANSFORMER_CHECKS = SHARED_CHECKS + [
    "check_transformer_data_not_an_array",
    "check_transformer_general",
    "check_transformer_preserve_dtypes",
    "check_transformers_unfitted_stateless",
]

CLASSIFIER_CHECKS = SHARED_CHECKS + [
    "check_classifier_data_not_an_array",
    "check_classifiers_classes",
    "check_classifiers_one_label",
    "check_classifiers_regression_target",
    "check_classifiers_train",
    "check_estimators_partial_fit_n_features",
    "check_estimators_unfitted",
    "check_requires_y_none",
    "check_supervised_y_2d",
]

EXPECTED = {
    name: {check: TABULAR for check in TRANSFORMER_CHECKS}
    for name in ("ImageInput", "MnistNormalize", "Deskew", "Hog")
}
EXPECTED["CNNClassifier"] = {check: TABULAR for check in CLASSIFIER_CHECKS}
# no partial_fit: that check has nothing to feed
EXPECTED["DeformationKNN"] = {c: TABULAR for c in CLASSIFIER_CHECKS if c != "check_estimators_partial_fit_n_features"}
# no partial_fit; check_estimators_unfitted passes (predict checks that it is fitted before it reads X)
PASSING = ("check_estimators_partial_fit_n_features", "check_estimators_unfitted")
EXPECTED["VirtualSupportVectors"] = {c: TABULAR for c in CLASSIFIER_CHECKS if c not in PASSING}
