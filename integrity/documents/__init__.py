"""What the tool hands out: the findings files (``output``, ``cells`` formula-safe), the
workbook, the report and the referral documents (``workbook``, ``report``, ``referral``,
``reports``, ``charts``) and the words they use (``words``, ``paths``)."""
