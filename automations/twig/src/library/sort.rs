//! A stable merge sort with a fallible comparator that never panics, even
//! when the comparator is inconsistent (user arrow functions).

use std::cmp::Ordering;

/// Sorts `items` stably by `cmp`; stops at the first comparator error.
pub fn merge_sort<T: Clone, E>(
    items: Vec<T>,
    cmp: &mut dyn FnMut(&T, &T) -> Result<Ordering, E>,
) -> Result<Vec<T>, E> {
    if items.len() <= 1 {
        return Ok(items);
    }
    let mut items = items;
    let right = items.split_off(items.len() / 2);
    let left = merge_sort(items, cmp)?;
    let right = merge_sort(right, cmp)?;
    let mut out = Vec::with_capacity(left.len() + right.len());
    let mut l = left.into_iter().peekable();
    let mut r = right.into_iter().peekable();
    loop {
        match (l.peek(), r.peek()) {
            (Some(a), Some(b)) => {
                if cmp(a, b)? == Ordering::Greater {
                    out.extend(r.next());
                } else {
                    out.extend(l.next());
                }
            }
            (Some(_), None) => out.extend(l.by_ref()),
            (None, Some(_)) => out.extend(r.by_ref()),
            (None, None) => break,
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stable_and_total() {
        let v = vec![(3, 'a'), (1, 'b'), (3, 'c'), (2, 'd')];
        let s = merge_sort::<_, ()>(v, &mut |a, b| Ok(a.0.cmp(&b.0)));
        assert_eq!(s, Ok(vec![(1, 'b'), (2, 'd'), (3, 'a'), (3, 'c')]));
        // An inconsistent comparator must not panic.
        let s = merge_sort::<_, ()>((0..50).collect(), &mut |_, _| Ok(Ordering::Greater));
        assert_eq!(s.map(|v| v.len()), Ok(50));
    }
}
